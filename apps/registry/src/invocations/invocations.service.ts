import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ChatfnConfig } from '@chatfn/config';
import {
  Envelope,
  InvocationCompletedPayload,
  InvocationDeadLetteredPayload,
  InvocationRequestedPayload,
  Keys,
} from '@chatfn/contracts';
import { EventStore } from '@chatfn/event-store';
import { MessageBus } from '@chatfn/messaging';
import { DataSource } from 'typeorm';
import { RegistryLinks } from '../shared/registry-http';
import { RegistryError, RegistryErrorCode } from '../shared/registry.error';

interface InvocationRow {
  id: string;
  invocation_id: string;
  function_id: string;
  trigger_type: string;
  version_number: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  args: Record<string, unknown>;
  result: { payload: unknown } | null;
  error: { name: string; message: string; stack?: string } | null;
  logs: string;
  duration_ms: number | null;
  attempt: number;
  correlation_id: string | null;
  dead_lettered: boolean;
  redriven_as: string | null;
  created_time: Date;
  finished_time: Date | null;
}

export const INVOCATION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED'] as const;

/** Caps text to `max` bytes (UTF-8), marking the cut. */
export function capBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  const marker = '\n…[truncated]';
  const buf = Buffer.from(text, 'utf8').subarray(0, Math.max(0, max - Buffer.byteLength(marker)));
  return buf.toString('utf8').replace(/\uFFFD$/, '') + marker;
}

/** The invocation log: fed by the executor's completion and dead-letter topics, read by the Functions API. */
@Injectable()
export class InvocationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly bus: MessageBus,
    private readonly config: ChatfnConfig,
    private readonly links: RegistryLinks,
  ) {}

  /** Idempotent on invocationId: a redelivery or an older attempt never overwrites a newer attempt's record. */
  recordCompleted(env: Envelope<InvocationCompletedPayload>): Promise<void> {
    return this.recordLog([], [env]);
  }

  /**
   * The invocation log's writes of a batch in one statement (the consumer batches concurrent deliveries):
   * - completions: idempotent on invocationId; the latest attempt wins and an older attempt never overwrites a newer
   *   one's record;
   * - requests: an invocation the router asked for shows as RUNNING until its result arrives. A request whose
   *   completion is in the same batch is not written at all (the completion writes the whole row), and a request
   *   never overwrites a record (a completion that overtook it, on another topic, stays as it is).
   */
  async recordLog(requested: Envelope<InvocationRequestedPayload>[], completed: Envelope<InvocationCompletedPayload>[]): Promise<void> {
    // One row per invocation in a statement (ON CONFLICT cannot touch a row twice).
    const latest = new Map<string, Envelope<InvocationCompletedPayload>>();
    for (const e of completed) {
      const held = latest.get(e.payload.invocationId);
      if (!held || held.payload.attempt <= e.payload.attempt) latest.set(e.payload.invocationId, e);
    }
    const running = new Map<string, Envelope<InvocationRequestedPayload>>();
    for (const e of requested) if (!latest.has(e.payload.invocationId)) running.set(e.payload.invocationId, e);
    if (latest.size === 0 && running.size === 0) return;
    const max = this.config.env.CHATFN_INVOCATION_LOG_MAX_BYTES;
    // One JSON document per kind: serialised natively, no per-element array escaping in the driver.
    const completedDoc = JSON.stringify(
      [...latest.values()].map(({ payload: p, correlationId }) => ({
        i: p.invocationId,
        a: p.applicationId,
        f: p.functionId,
        t: p.triggerType,
        v: p.versionNumber,
        s: p.status,
        ar: p.args ?? {},
        r: p.result ?? null,
        er: p.error ?? null,
        l: capBytes(p.logs ?? '', max),
        d: p.durationMs,
        at: p.attempt,
        c: correlationId,
        dl: p.deadLettered,
        st: p.startedAt,
        fi: p.finishedAt,
      })),
    );
    const requestedDoc = JSON.stringify(
      [...running.values()].map(({ payload: p, correlationId, occurredAt }) => ({
        i: p.invocationId,
        a: p.applicationId,
        f: p.functionId,
        t: p.triggerType,
        v: p.versionNumber,
        ar: p.event ?? {},
        at: p.attempt,
        c: correlationId,
        ct: occurredAt,
      })),
    );
    const insertRequested = (param: string) =>
      `INSERT INTO function_invocations (invocation_id, application_id, function_id, trigger_type, version_number, status, args,
                                         attempt, correlation_id, created_time)
       SELECT i, a, f, t, v, 'RUNNING', ar, at, c, ct
         FROM jsonb_to_recordset(${param}::jsonb) AS x(i text, a bigint, f bigint, t text, v int, ar jsonb, at int, c text, ct timestamptz)
       ON CONFLICT (invocation_id) DO NOTHING`;
    const upsertCompleted = (param: string) =>
      `INSERT INTO function_invocations (invocation_id, application_id, function_id, trigger_type, version_number, status, args, result,
                                         error, logs, duration_ms, attempt, correlation_id, dead_lettered, created_time, finished_time)
       SELECT i, a, f, t, v, s, ar, NULLIF(r, 'null'::jsonb), NULLIF(er, 'null'::jsonb), l, d, at, c, dl, st, fi
         FROM jsonb_to_recordset(${param}::jsonb) AS x(i text, a bigint, f bigint, t text, v int, s text, ar jsonb, r jsonb, er jsonb,
                                                  l text, d float8, at int, c text, dl bool, st timestamptz, fi timestamptz)
       ON CONFLICT (invocation_id) DO UPDATE SET
         status = EXCLUDED.status, result = EXCLUDED.result, error = EXCLUDED.error, logs = EXCLUDED.logs,
         duration_ms = EXCLUDED.duration_ms, attempt = EXCLUDED.attempt, finished_time = EXCLUDED.finished_time,
         dead_lettered = function_invocations.dead_lettered OR EXCLUDED.dead_lettered
       WHERE function_invocations.attempt <= EXCLUDED.attempt`;
    if (running.size === 0) await this.dataSource.query(upsertCompleted('$1'), [completedDoc]);
    else if (latest.size === 0) await this.dataSource.query(insertRequested('$1'), [requestedDoc]);
    // Both in one round trip; their invocations are disjoint, so the two inserts never meet on a row.
    else await this.dataSource.query(`WITH requested AS (${insertRequested('$1')}) ${upsertCompleted('$2')}`, [requestedDoc, completedDoc]);
  }

  /** Keeps the dead-lettered request so it can be redriven. */
  async recordDeadLettered(env: Envelope<InvocationDeadLetteredPayload>): Promise<void> {
    const { request: r, error } = env.payload;
    await this.dataSource.query(
      `INSERT INTO function_invocations (invocation_id, application_id, function_id, trigger_type, version_number, status, args,
                                         error, attempt, correlation_id, dead_lettered, dead_letter_request, finished_time)
       VALUES ($1, $2, $3, $4, $5, 'FAILED', $6::jsonb, $7::jsonb, $8, $9, true, $10::jsonb, now())
       ON CONFLICT (invocation_id) DO UPDATE SET dead_lettered = true, dead_letter_request = EXCLUDED.dead_letter_request,
         -- The dead letter may overtake its last attempt's completion (another topic): it carries that attempt's error.
         status = CASE WHEN EXCLUDED.attempt > function_invocations.attempt THEN 'FAILED' ELSE function_invocations.status END,
         error = CASE WHEN EXCLUDED.attempt > function_invocations.attempt THEN EXCLUDED.error
                      ELSE COALESCE(function_invocations.error, EXCLUDED.error) END,
         attempt = GREATEST(function_invocations.attempt, EXCLUDED.attempt)`,
      [
        r.invocationId,
        r.applicationId,
        r.functionId,
        r.triggerType,
        r.versionNumber,
        JSON.stringify(r.event),
        JSON.stringify(error),
        r.attempt,
        env.correlationId,
        JSON.stringify(r),
      ],
    );
  }

  async list(
    applicationId: number,
    functionId: number,
    filter: { status?: string; versionNumber?: number },
    paging: { page: number; size: number },
  ) {
    const where = ['application_id = $1', 'function_id = $2'];
    const params: unknown[] = [applicationId, functionId];
    if (filter.status) {
      params.push(filter.status);
      where.push(`status = $${params.length}`);
    }
    if (filter.versionNumber !== undefined) {
      params.push(filter.versionNumber);
      where.push(`version_number = $${params.length}`);
    }
    const rows: InvocationRow[] = await this.dataSource.query(
      `SELECT * FROM function_invocations WHERE ${where.join(' AND ')} ORDER BY created_time DESC, id DESC
        LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, paging.size, paging.page * paging.size],
    );
    const total: { n: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM function_invocations WHERE ${where.join(' AND ')}`,
      params,
    );
    return { items: rows.map((r) => this.render(r)), total: total[0].n };
  }

  /** Re-publishes a dead-lettered request (new invocation id, attempt 1) through the outbox. */
  async redrive(applicationId: number, functionId: number, ref: string) {
    return this.store.transaction(async (m) => {
      const rows: (InvocationRow & { dead_letter_request: InvocationRequestedPayload | null })[] = await m.query(
        `SELECT * FROM function_invocations
          WHERE application_id = $1 AND function_id = $2 AND (invocation_id = $3 OR ($3 ~ '^[0-9]{1,15}$' AND id = $3::bigint))
          FOR UPDATE`,
        [applicationId, functionId, ref],
      );
      const row = rows[0];
      if (!row) throw new RegistryError(RegistryErrorCode.INVOCATION_NOT_FOUND, `Chat function invocation ${ref} not found`);
      if (!row.dead_lettered || !row.dead_letter_request) {
        throw new RegistryError(RegistryErrorCode.NOT_DEAD_LETTERED, `Invocation ${ref} was not dead-lettered; only dead-lettered invocations can be redriven`);
      }
      if (row.redriven_as) {
        throw new RegistryError(RegistryErrorCode.CONFLICT, `Invocation ${ref} was already redriven as ${row.redriven_as}`, {
          redriven_as: row.redriven_as,
        });
      }
      const original = row.dead_letter_request;
      const invocationId = randomUUID();
      const request: InvocationRequestedPayload = {
        ...original,
        invocationId,
        attempt: 1,
        // A new identity for the work, so dedup on (sourceEventId, functionId, versionNumber) does not swallow it.
        sourceEventId: `${original.sourceEventId}#redrive-${invocationId}`,
      };
      const key = original.channelId !== undefined ? Keys.channel(applicationId, original.channelId) : Keys.fn(functionId);
      await this.store.enqueue(m, [
        this.bus.envelope('router.invocation.requested.v1', request, { key, correlationId: row.correlation_id ?? undefined }),
      ]);
      await m.query('UPDATE function_invocations SET redriven_as = $2 WHERE id = $1', [row.id, invocationId]);
      return { invocation_id: invocationId, redriven_from: row.invocation_id };
    });
  }

  /** Deletes invocations older than `CHATFN_INVOCATION_RETENTION_DAYS`; returns how many. */
  async purgeExpired(): Promise<number> {
    const r: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM function_invocations WHERE created_time < now() - make_interval(days => $1)`,
      [this.config.env.CHATFN_INVOCATION_RETENTION_DAYS],
    );
    return Array.isArray(r) && typeof r[1] === 'number' ? r[1] : 0;
  }

  private render(r: InvocationRow) {
    const id = Number(r.id);
    return {
      id,
      args: r.args,
      created_time: new Date(r.created_time).toISOString(),
      result: r.result ?? {},
      status: r.status,
      version_number: r.version_number,
      // chatfn extensions
      invocation_id: r.invocation_id,
      trigger_type: r.trigger_type,
      duration_ms: r.duration_ms,
      logs: r.logs,
      error: r.error,
      attempt: r.attempt,
      correlation_id: r.correlation_id,
      dead_lettered: r.dead_lettered,
      redriven_as: r.redriven_as,
      finished_time: r.finished_time ? new Date(r.finished_time).toISOString() : null,
      _links: this.links.links({
        function: `/functions/${Number(r.function_id)}`,
        ...(r.dead_lettered && !r.redriven_as ? { redrive: `/functions/${Number(r.function_id)}/invocations/${r.invocation_id}/redrive` } : {}),
      }),
    };
  }
}
