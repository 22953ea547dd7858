import { z } from 'zod';
import { JobItemError } from '../jobs/job-handlers';

/** `idempotency_key` of an import item (channels, members, messages, users). */
export const IdempotencyKey = z.string().min(1).max(256);

/** The first zod issue of an item as a per-item job error: `index` in the file, `path: message`. */
export function itemError(index: number, error: z.ZodError): JobItemError {
  const issue = error.issues[0];
  return { index, message: `${issue.path.join('.') || 'item'}: ${issue.message}` };
}

/** Which kind of resource an `import_keys` row points at. */
export type ImportKind = 'user' | 'channel' | 'channel_member' | 'message';

/** The keys among `keys` already imported for this application and kind (one query). */
export async function seenKeys(
  db: { query: (sql: string, params?: unknown[]) => Promise<unknown> },
  applicationId: number,
  kind: ImportKind,
  keys: string[],
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = (await db.query(
    `SELECT idempotency_key FROM import_keys WHERE application_id = $1 AND kind = $2 AND idempotency_key = ANY($3::text[])`,
    [applicationId, kind, keys],
  )) as { idempotency_key: string }[];
  return new Set(rows.map((r) => r.idempotency_key));
}
