import { Injectable } from '@nestjs/common';
import { ChatfnConfig } from '@chatfn/config';
import { FailurePolicy, isBlockingTrigger, isTriggerType, TRIGGER_TYPES, TRIGGERS } from '@chatfn/contracts';
import { EventStore } from '@chatfn/event-store';
import { MessageBus, MessagingError } from '@chatfn/messaging';
import { ApiException } from '@chatfn/platform';
import { DataSource, EntityManager } from 'typeorm';
import { RuntimeService } from '../runtime/runtime.service';
import { RegistryLinks } from '../shared/registry-http';
import { RegistryError, RegistryErrorCode } from '../shared/registry.error';
import { FunctionCommandHandler } from './function-command.handler';
import { FunctionCommand } from './function.decider';
import { compileScript } from './handler-script';

export interface FunctionRow {
  id: string;
  application_id: string;
  trigger_type: string;
  name: string;
  description: string | null;
  enabled: boolean;
  current_version_number: number;
  current_version_id: string | null;
  timeout_ms: number;
  failure_policy: FailurePolicy;
  created_time: Date;
}

export interface VersionRow {
  id: string;
  function_id: string;
  version_number: number;
  handler_script: string;
  rolled_back_from: number | null;
  created_time: Date;
}

const FUNCTION_COLUMNS = `id, application_id, trigger_type, name, description, enabled, current_version_number, current_version_id,
  timeout_ms, failure_policy, created_time`;
const VERSION_COLUMNS = 'id, function_id, version_number, handler_script, rolled_back_from, created_time';

/** The `ChatFunctionResource` of api.ts plus chatfn extensions (timeout_ms, failure_policy, blocking, created_time). */
export type FunctionResource = ReturnType<FunctionsService['renderFunction']>;

@Injectable()
export class FunctionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly handler: FunctionCommandHandler,
    private readonly runtime: RuntimeService,
    private readonly links: RegistryLinks,
    private readonly config: ChatfnConfig,
    private readonly bus: MessageBus,
  ) {}

  defaultTimeout(triggerType: string): number {
    return isTriggerType(triggerType) && isBlockingTrigger(triggerType)
      ? this.config.env.CHATFN_BLOCKING_DEADLINE_MS
      : this.config.env.CHATFN_FUNCTION_TIMEOUT_MS;
  }

  /**
   * What a blocking function's caller does when no verdict comes in time: a message goes through (`allow`: chat keeps
   * working without executors), a session is refused (`deny`: authentication fails closed).
   */
  defaultFailurePolicy(triggerType: string): FailurePolicy {
    return triggerType === 'user.attempted.send_message' ? 'allow' : 'deny';
  }

  /** Creates the application's runtime and one function per trigger type (disabled, version 0) on first access. */
  async ensureApplication(applicationId: number): Promise<void> {
    const rows: { n: number }[] = await this.dataSource.query('SELECT count(*)::int AS n FROM functions WHERE application_id = $1', [
      applicationId,
    ]);
    if (rows[0].n >= TRIGGER_TYPES.length) {
      await this.runtime.ensureRuntime(applicationId);
      return;
    }
    await this.store.transaction(async (m) => {
      await this.runtime.ensureRuntime(applicationId, m);
      const created: { id: string; trigger_type: string; name: string; timeout_ms: number }[] = await m.query(
        `INSERT INTO functions (application_id, trigger_type, name, timeout_ms)
         SELECT $1, t, n, ms FROM unnest($2::text[], $3::text[], $4::int[]) AS x(t, n, ms)
         ON CONFLICT (application_id, trigger_type) DO NOTHING
         RETURNING id, trigger_type, name, timeout_ms`,
        [
          applicationId,
          TRIGGER_TYPES,
          TRIGGER_TYPES.map((t) => TRIGGERS[t].name),
          TRIGGER_TYPES.map((t) => this.defaultTimeout(t)),
        ],
      );
      for (const r of created.sort((a, b) => Number(a.id) - Number(b.id))) {
        await this.handler.execute(m, Number(r.id), {
          type: 'CreateFunction',
          functionId: Number(r.id),
          applicationId,
          triggerType: r.trigger_type,
          name: r.name,
          timeoutMs: r.timeout_ms,
          failurePolicy: this.defaultFailurePolicy(r.trigger_type),
        });
      }
    });
  }

  async list(applicationId: number, paging: { page: number; size: number }): Promise<{ items: FunctionResource[]; total: number }> {
    await this.ensureApplication(applicationId);
    const rows: FunctionRow[] = await this.dataSource.query(
      `SELECT ${FUNCTION_COLUMNS} FROM functions WHERE application_id = $1 ORDER BY id LIMIT $2 OFFSET $3`,
      [applicationId, paging.size, paging.page * paging.size],
    );
    const total: { n: number }[] = await this.dataSource.query('SELECT count(*)::int AS n FROM functions WHERE application_id = $1', [
      applicationId,
    ]);
    const rt = await this.runtime.runtimeRef(applicationId);
    return { items: rows.map((r) => this.renderFunction(r, rt)), total: total[0].n };
  }

  async findRow(applicationId: number, functionId: number, manager: Pick<EntityManager, 'query'> = this.dataSource): Promise<FunctionRow> {
    const rows: FunctionRow[] = await manager.query(`SELECT ${FUNCTION_COLUMNS} FROM functions WHERE id = $1 AND application_id = $2`, [
      functionId,
      applicationId,
    ]);
    if (!rows[0]) throw new RegistryError(RegistryErrorCode.FUNCTION_NOT_FOUND, `Chat function with id ${functionId} not found`);
    return rows[0];
  }

  async get(applicationId: number, functionId: number): Promise<FunctionResource> {
    const row = await this.findRow(applicationId, functionId);
    return this.renderFunction(row, await this.runtime.runtimeRef(applicationId));
  }

  /** `POST /v1/runtimes/nodejs/functions`: the trigger's function exists already; name, describe and enable it. */
  async define(applicationId: number, input: { type: string; name: string; description?: string }): Promise<FunctionResource> {
    if (!isTriggerType(input.type)) {
      throw new RegistryError(RegistryErrorCode.INVALID_INPUT, `type: unknown trigger type ${JSON.stringify(input.type)}`, {
        field: 'type',
        allowed: TRIGGER_TYPES,
      });
    }
    await this.ensureApplication(applicationId);
    const rows: { id: string }[] = await this.dataSource.query('SELECT id FROM functions WHERE application_id = $1 AND trigger_type = $2', [
      applicationId,
      input.type,
    ]);
    const id = Number(rows[0].id);
    await this.run(id, { type: 'DefineFunction', applicationId, name: input.name, description: input.description });
    return this.get(applicationId, id);
  }

  async deployVersion(applicationId: number, functionId: number, handlerScript: string) {
    const { compiled } = compileScript(handlerScript, { field: 'handler_script', requireHandleEvent: true });
    await this.findRow(applicationId, functionId);
    const versionId = await this.store.transaction(async (m) => {
      const vid = await this.handler.allocateVersionId(m);
      await this.handler.execute(m, functionId, { type: 'DeployFunctionVersion', applicationId, versionId: vid }, {
        handlerScript,
        compiledScript: compiled,
      });
      return vid;
    });
    return this.getVersion(applicationId, versionId);
  }

  async rollback(applicationId: number, functionId: number, toVersionNumber: number) {
    await this.findRow(applicationId, functionId);
    const versionId = await this.store.transaction(async (m) => {
      const src: { handler_script: string; compiled_script: string }[] = await m.query(
        'SELECT handler_script, compiled_script FROM function_versions WHERE function_id = $1 AND version_number = $2',
        [functionId, toVersionNumber],
      );
      const vid = await this.handler.allocateVersionId(m);
      await this.handler.execute(
        m,
        functionId,
        { type: 'RollbackFunction', applicationId, versionId: vid, toVersionNumber },
        src[0] ? { handlerScript: src[0].handler_script, compiledScript: src[0].compiled_script } : undefined,
      );
      return vid;
    });
    return this.getVersion(applicationId, versionId);
  }

  async setEnabled(applicationId: number, functionId: number, enabled: boolean): Promise<FunctionResource> {
    await this.run(functionId, { type: enabled ? 'EnableFunction' : 'DisableFunction', applicationId });
    return this.get(applicationId, functionId);
  }

  async changeSettings(
    applicationId: number,
    functionId: number,
    settings: { timeoutMs?: number; failurePolicy?: FailurePolicy },
  ): Promise<FunctionResource> {
    await this.run(functionId, { type: 'ChangeFunctionSettings', applicationId, ...settings });
    return this.get(applicationId, functionId);
  }

  private run(functionId: number, command: FunctionCommand) {
    return this.store.transaction((m) => this.handler.execute(m, functionId, command));
  }

  async listVersions(applicationId: number, functionId: number, paging: { page: number; size: number }) {
    await this.findRow(applicationId, functionId);
    const rows: VersionRow[] = await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS} FROM function_versions WHERE function_id = $1 ORDER BY version_number DESC LIMIT $2 OFFSET $3`,
      [functionId, paging.size, paging.page * paging.size],
    );
    const total: { n: number }[] = await this.dataSource.query('SELECT count(*)::int AS n FROM function_versions WHERE function_id = $1', [
      functionId,
    ]);
    return { items: rows.map((r) => this.renderVersion(r)), total: total[0].n };
  }

  async currentVersion(applicationId: number, functionId: number) {
    const row = await this.findRow(applicationId, functionId);
    if (row.current_version_id === null) {
      throw new RegistryError(RegistryErrorCode.VERSION_NOT_FOUND, `Chat function ${functionId} has no version yet`);
    }
    return this.getVersion(applicationId, Number(row.current_version_id));
  }

  async getVersion(applicationId: number, versionId: number) {
    const rows: VersionRow[] = await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS.split(', ')
        .map((c) => `v.${c}`)
        .join(', ')} FROM function_versions v JOIN functions f ON f.id = v.function_id WHERE v.id = $1 AND f.application_id = $2`,
      [versionId, applicationId],
    );
    if (!rows[0]) throw new RegistryError(RegistryErrorCode.VERSION_NOT_FOUND, `Chat function version with id ${versionId} not found`);
    return this.renderVersion(rows[0]);
  }

  /**
   * Draft test run: asks an executor to run the draft script (or the current version) with `event`, without saving
   * a version. 503 when no executor answers, 504 when the run outlives the function's timeout.
   */
  async test(applicationId: number, functionId: number, input: { event: Record<string, unknown>; script?: string }) {
    const row = await this.findRow(applicationId, functionId);
    const draftScript = input.script === undefined ? undefined : compileScript(input.script, { field: 'script', requireHandleEvent: true }).compiled;
    if (draftScript === undefined && row.current_version_number === 0) {
      throw new RegistryError(RegistryErrorCode.INVALID_INPUT, 'script: required, the function has no deployed version to test', { field: 'script' });
    }
    const deadlineMs = row.timeout_ms;
    const started = Date.now();
    try {
      const reply = await this.bus.request(
        'executor.execution.requested.v1',
        { applicationId, triggerType: row.trigger_type, event: input.event, deadlineMs, draftScript, functionId, depth: 0 },
        { deadlineMs: deadlineMs + 2_000 },
      );
      return {
        outcome: reply.outcome,
        result: reply.result ?? null,
        error: reply.error ?? null,
        logs: reply.logs,
        duration_ms: reply.durationMs,
        timed_out: reply.timedOut ?? false,
        invocation_id: reply.invocationId ?? null,
        version_number: draftScript === undefined ? (reply.versionNumber ?? row.current_version_number) : null,
        draft: draftScript !== undefined,
      };
    } catch (e) {
      if (e instanceof MessagingError && e.code === 'REQUEST_TIMEOUT') {
        throw new ApiException(504, 'FunctionTestTimeoutError', `No executor answered within ${Date.now() - started} ms`, {
          deadline_ms: deadlineMs,
        });
      }
      if (e instanceof MessagingError) {
        throw new ApiException(503, 'ExecutorUnavailableError', `No executor is available to run the test: ${e.message}`, { code: e.code });
      }
      throw e;
    }
  }

  renderFunction(r: FunctionRow, runtime: { id: number; version: string }) {
    const id = Number(r.id);
    const out: {
      type: string;
      id: number;
      current_version_number: number;
      description?: string;
      enabled: boolean;
      name: string;
      runtime: { type: 'NODEJS'; id: number; version: string };
      timeout_ms: number;
      failure_policy: FailurePolicy;
      blocking: boolean;
      created_time: string;
      _links: Record<string, { href: string }>;
    } = {
      type: r.trigger_type,
      id,
      current_version_number: r.current_version_number,
      enabled: r.enabled,
      name: r.name,
      runtime: { type: 'NODEJS', id: runtime.id, version: runtime.version },
      timeout_ms: r.timeout_ms,
      failure_policy: r.failure_policy,
      blocking: isTriggerType(r.trigger_type) ? isBlockingTrigger(r.trigger_type) : false,
      created_time: new Date(r.created_time).toISOString(),
      _links: this.links.links({
        self: `/functions/${id}`,
        versions: `/functions/${id}/versions`,
        current_version: `/functions/${id}/current-version`,
        invocations: `/functions/${id}/invocations`,
        runtime: '/runtimes/nodejs',
      }),
    };
    if (r.description !== null) out.description = r.description;
    return out;
  }

  renderVersion(v: VersionRow) {
    const id = Number(v.id);
    const out: Record<string, unknown> = {
      id,
      handler_script: v.handler_script,
      version_number: v.version_number,
      created_time: new Date(v.created_time).toISOString(),
      _links: this.links.links({ self: `/function-versions/${id}`, function: `/functions/${Number(v.function_id)}` }),
    };
    if (v.rolled_back_from !== null) out.rolled_back_from = v.rolled_back_from;
    return out;
  }
}
