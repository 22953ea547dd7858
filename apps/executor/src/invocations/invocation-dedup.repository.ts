import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface DedupKey {
  sourceEventId: string;
  functionId: number;
  versionNumber: number;
}

/** `invocation_dedup`: one claim per (sourceEventId, functionId, versionNumber). */
@Injectable()
export class InvocationDedupRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Claims the work; true when this caller should run it. A claim still `running` after `staleAfterMs` (its executor
   * died mid-run) can be claimed again.
   */
  async claim(key: DedupKey, invocationId: string, staleAfterMs: number): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO invocation_dedup (source_event_id, function_id, version_number, invocation_id, status)
       VALUES ($1, $2, $3, $4, 'running')
       ON CONFLICT (source_event_id, function_id, version_number) DO UPDATE
         SET invocation_id = EXCLUDED.invocation_id, claimed_at = now(), status = 'running'
         WHERE invocation_dedup.status = 'running'
           AND invocation_dedup.claimed_at < now() - ($5::text || ' milliseconds')::interval
       RETURNING invocation_id`,
      [key.sourceEventId, key.functionId, key.versionNumber, invocationId, String(staleAfterMs)],
    );
    return rows.length > 0;
  }

  async finish(key: DedupKey): Promise<void> {
    await this.db.query(
      `UPDATE invocation_dedup SET status = 'done', finished_at = now()
       WHERE source_event_id = $1 AND function_id = $2 AND version_number = $3`,
      [key.sourceEventId, key.functionId, key.versionNumber],
    );
  }

  async prune(olderThanDays: number): Promise<void> {
    await this.db.query(`DELETE FROM invocation_dedup WHERE claimed_at < now() - ($1::text || ' days')::interval`, [String(olderThanDays)]);
  }
}
