import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface DedupKey {
  sourceEventId: string;
  functionId: number;
  versionNumber: number;
}

/** An accepted request as stored in the inbox (what a taking-over executor needs to run it). */
export interface InboxItem<R = unknown, C = unknown> {
  key: DedupKey;
  invocationId: string;
  request: R;
  cause: C;
}

const dedupKey = (k: DedupKey) => `${k.sourceEventId}\u0000${k.functionId}\u0000${k.versionNumber}`;

/**
 * `invocation_dedup`: the executors' durable inbox, one row per (sourceEventId, functionId, versionNumber). A claim
 * is `running` under an owner (executor instance) that renews its lease while alive; `done` rows make redeliveries
 * no-ops; the running rows of an owner whose lease lapsed are taken over by another executor.
 */
@Injectable()
export class InvocationDedupRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Claims many requests in one statement; returns, per item, whether this caller won it (and must run it). A
   * `running` claim older than `staleAfterMs` (its owner stopped renewing) can be won again. Duplicates within the
   * batch: the first one wins.
   */
  async claimMany(items: InboxItem[], owner: string, staleAfterMs: number): Promise<boolean[]> {
    if (items.length === 0) return [];
    const first = new Map<string, number>();
    items.forEach((it, i) => first.has(dedupKey(it.key)) || first.set(dedupKey(it.key), i));
    const unique = [...first.values()].map((i) => items[i]);
    // One JSON document for the batch: serialised natively, no per-element array escaping in the driver.
    const doc = JSON.stringify(
      unique.map((u) => ({ e: u.key.sourceEventId, f: u.key.functionId, v: u.key.versionNumber, i: u.invocationId, r: u.request ?? null, c: u.cause ?? null })),
    );
    const rows: DedupKey[] = await this.db.query(
      `INSERT INTO invocation_dedup (source_event_id, function_id, version_number, invocation_id, status, owner, request, cause)
       SELECT e, f, v, i, 'running', $2, r, c FROM jsonb_to_recordset($1::jsonb) AS x(e text, f int, v int, i text, r jsonb, c jsonb)
       ON CONFLICT (source_event_id, function_id, version_number) DO UPDATE
         SET invocation_id = EXCLUDED.invocation_id, claimed_at = now(), status = 'running', owner = EXCLUDED.owner,
             request = EXCLUDED.request, cause = EXCLUDED.cause
         WHERE invocation_dedup.status = 'running'
           AND invocation_dedup.claimed_at < now() - make_interval(secs => $3::double precision / 1000)
       RETURNING source_event_id AS "sourceEventId", function_id AS "functionId", version_number AS "versionNumber"`,
      [doc, owner, staleAfterMs],
    );
    const won = new Set(rows.map(dedupKey));
    return items.map((it, i) => first.get(dedupKey(it.key)) === i && won.has(dedupKey(it.key)));
  }

  /** One claim (tests and single requests). */
  async claim(key: DedupKey, invocationId: string, staleAfterMs: number, owner = 'local'): Promise<boolean> {
    const [won] = await this.claimMany([{ key, invocationId, request: null, cause: null }], owner, staleAfterMs);
    return won;
  }

  /** Marks the work done (one statement for the batch). */
  async finishMany(keys: DedupKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.query(
      `UPDATE invocation_dedup d SET status = 'done', finished_at = now(), request = NULL, cause = NULL
         FROM unnest($1::text[], $2::int[], $3::int[]) AS x(e, f, v)
        WHERE d.source_event_id = x.e AND d.function_id = x.f AND d.version_number = x.v`,
      [keys.map((k) => k.sourceEventId), keys.map((k) => k.functionId), keys.map((k) => k.versionNumber)],
    );
  }

  finish(key: DedupKey): Promise<void> {
    return this.finishMany([key]);
  }

  /** Renews the lease of `owner` on these running claims of its own. */
  async renew(owner: string, keys: DedupKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.query(
      `UPDATE invocation_dedup d SET claimed_at = now()
         FROM unnest($2::text[], $3::int[], $4::int[]) AS x(e, f, v)
        WHERE d.source_event_id = x.e AND d.function_id = x.f AND d.version_number = x.v AND d.owner = $1 AND d.status = 'running'`,
      [owner, keys.map((k) => k.sourceEventId), keys.map((k) => k.functionId), keys.map((k) => k.versionNumber)],
    );
  }

  /** Takes over up to `limit` running claims whose lease lapsed (their executor died); returns them. */
  async takeOver<R, C>(owner: string, staleAfterMs: number, limit: number): Promise<InboxItem<R, C>[]> {
    const rows: { e: string; f: number; v: number; i: string; request: R; cause: C }[] = await this.db.query(
      `UPDATE invocation_dedup d SET owner = $1, claimed_at = now()
         FROM (SELECT source_event_id, function_id, version_number FROM invocation_dedup
                WHERE status = 'running' AND request IS NOT NULL
                  AND claimed_at < now() - make_interval(secs => $2::double precision / 1000)
                ORDER BY claimed_at LIMIT $3 FOR UPDATE SKIP LOCKED) s
        WHERE d.source_event_id = s.source_event_id AND d.function_id = s.function_id AND d.version_number = s.version_number
        RETURNING d.source_event_id AS e, d.function_id AS f, d.version_number AS v, d.invocation_id AS i, d.request, d.cause`,
      [owner, staleAfterMs, limit],
    );
    const list = Array.isArray(rows[0]) ? (rows[0] as unknown as typeof rows) : rows;
    return list.map((r) => ({
      key: { sourceEventId: r.e, functionId: Number(r.f), versionNumber: Number(r.v) },
      invocationId: r.i,
      request: r.request,
      cause: r.cause,
    }));
  }

  async prune(olderThanDays: number): Promise<void> {
    await this.db.query(`DELETE FROM invocation_dedup WHERE claimed_at < now() - ($1::text || ' days')::interval`, [String(olderThanDays)]);
  }
}
