import { Injectable } from '@nestjs/common';
import { FunctionChangedPayload, FunctionSnapshot, Keys } from '@chatfn/contracts';
import { EventStore } from '@chatfn/event-store';
import { MessageBus } from '@chatfn/messaging';
import { EntityManager } from 'typeorm';
import { RegistryError, RegistryErrorCode } from '../shared/registry.error';
import {
  decideFunction,
  evolveFunction,
  FunctionCommand,
  FunctionEvent,
  FunctionState,
  initialFunctionState,
} from './function.decider';

export const functionStream = (functionId: number) => `function-${functionId}`;

export interface NewVersionScript {
  handlerScript: string;
  compiledScript: string;
}

/**
 * Runs one function command inside the caller's transaction: folds the stream, decides, appends with the expected
 * version, writes the read model (`functions`, `function_versions`) and enqueues one `registry.function.changed.v1`
 * per event (the snapshot after that event) in the outbox.
 */
@Injectable()
export class FunctionCommandHandler {
  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus,
  ) {}

  async load(manager: EntityManager, functionId: number, lock: boolean): Promise<FunctionState> {
    if (lock) await manager.query('SELECT id FROM functions WHERE id = $1 FOR UPDATE', [functionId]);
    const events = await this.store.read(functionStream(functionId), 1, manager);
    return events.map((e) => ({ type: e.type, data: e.data }) as FunctionEvent).reduce(evolveFunction, initialFunctionState(functionId));
  }

  async allocateVersionId(manager: EntityManager): Promise<number> {
    const rows: { id: string }[] = await manager.query(`SELECT nextval(pg_get_serial_sequence('function_versions', 'id')) AS id`);
    return Number(rows[0].id);
  }

  async execute(
    manager: EntityManager,
    functionId: number,
    command: FunctionCommand,
    script?: NewVersionScript,
    metadata: Record<string, unknown> = {},
  ): Promise<FunctionState> {
    const state = await this.load(manager, functionId, true);
    const events = decideFunction(command, state);
    if (events.length === 0) return state;

    const states: FunctionState[] = [];
    let s = state;
    for (const e of events) {
      s = evolveFunction(s, e);
      states.push(s);
    }
    for (const e of events) {
      if (e.type === 'function.version-deployed' || e.type === 'function.rolled-back') {
        if (!script) throw new RegistryError(RegistryErrorCode.INVALID_INPUT, 'handler_script: required');
        await manager.query(
          `INSERT INTO function_versions (id, function_id, version_number, handler_script, compiled_script, rolled_back_from)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            e.data.versionId,
            functionId,
            e.data.versionNumber,
            script.handlerScript,
            script.compiledScript,
            e.type === 'function.rolled-back' ? e.data.fromVersionNumber : null,
          ],
        );
      }
    }
    await this.store.append(
      manager,
      functionStream(functionId),
      state.version === 0 ? 'no-stream' : state.version,
      events.map((e) => ({ type: e.type, data: e.data, metadata })),
    );
    await manager.query(
      `UPDATE functions SET name = $2, description = $3, enabled = $4, current_version_number = $5, current_version_id = $6,
              timeout_ms = $7, failure_policy = $8, stream_version = $9, updated_time = now()
        WHERE id = $1`,
      [
        functionId,
        s.name,
        s.description ?? null,
        s.enabled,
        s.currentVersionNumber,
        s.currentVersionId ?? null,
        s.timeoutMs,
        s.failurePolicy,
        s.version,
      ],
    );
    const scripts = new Map<number, string>();
    const envelopes = [];
    for (let i = 0; i < events.length; i++) {
      const snapshot = await this.snapshotOf(manager, states[i], scripts);
      const payload: FunctionChangedPayload = { type: events[i].type, version: states[i].version, function: snapshot };
      envelopes.push(this.bus.envelope('registry.function.changed.v1', payload, { key: Keys.fn(functionId) }));
    }
    await this.store.enqueue(manager, envelopes);
    return s;
  }

  private async snapshotOf(manager: EntityManager, s: FunctionState, scripts: Map<number, string>): Promise<FunctionSnapshot> {
    const snapshot: FunctionSnapshot = {
      id: s.id,
      applicationId: s.applicationId,
      triggerType: s.triggerType,
      enabled: s.enabled,
      currentVersionNumber: s.currentVersionNumber,
      timeoutMs: s.timeoutMs,
      failurePolicy: s.failurePolicy,
    };
    if (s.currentVersionId !== undefined) {
      snapshot.currentVersionId = s.currentVersionId;
      let script = scripts.get(s.currentVersionId);
      if (script === undefined) {
        const rows: { compiled_script: string }[] = await manager.query('SELECT compiled_script FROM function_versions WHERE id = $1', [
          s.currentVersionId,
        ]);
        script = rows[0]?.compiled_script;
        if (script !== undefined) scripts.set(s.currentVersionId, script);
      }
      if (script !== undefined) snapshot.handlerScript = script;
    }
    return snapshot;
  }
}
