import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { JobHandlers, JobItemError } from '../jobs/job-handlers';
import { JobEntity } from '../jobs/job.entity';
import { IdempotencyKey, itemError, seenKeys } from './import-item';

const common = {
  channel_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  group_tag: z.string().max(256).optional(),
  idempotency_key: IdempotencyKey.optional(),
  properties: z.record(z.unknown()).default({}),
  /** chatfn extension (the SDK's items have none): when the message was originally sent; default: now. */
  created_time: z.string().datetime({ offset: true }).optional(),
};
const body = z.string().min(1).max(100_000);
/** chatfn extension: FILE / SYSTEM_FILE items carry the external file like `CreateFileMessageResource`. */
const file = z.object({
  url: z.string().url(),
  name: z.string().min(1).max(1024),
  content_type: z.string().min(1).max(256),
  size: z.number().int().min(0),
});
const username = z.string().min(1).max(256);

/**
 * `MessageImport`: `TextChatUserMessageImport` (`TEXT` with `user`), `TextSystemMessageImport` (`SYSTEM_TEXT`; a
 * `TEXT` without `user` is one too), and the FILE counterparts.
 */
const MessageImportSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('TEXT'), body, user: username.optional(), ...common }),
    z.object({ type: z.literal('SYSTEM_TEXT'), body, ...common }),
    z.object({ type: z.literal('FILE'), file, user: username.optional(), ...common }),
    z.object({ type: z.literal('SYSTEM_FILE'), file, ...common }),
  ],
  {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union_discriminator' ? { message: 'must be one of TEXT, SYSTEM_TEXT, FILE, SYSTEM_FILE' } : { message: ctx.defaultError },
  },
);
type MessageImport = z.infer<typeof MessageImportSchema>;

/** Items per INSERT statement (and per transaction). */
export const MESSAGE_IMPORT_BATCH = 1000;

/**
 * MESSAGE_IMPORT jobs. Imported messages are history, not new messages: they are written in batches of
 * {@link MESSAGE_IMPORT_BATCH} with one multi-row statement (`jsonb_to_recordset`) per batch, and they neither
 * record `user.sent.message` (so no chat function runs) nor create notifications. The statement claims each
 * item's `idempotency_key` in `import_keys` and inserts only the messages whose key it claimed, so a re-run (or a
 * concurrent run of the same file) creates nothing twice.
 */
@Injectable()
export class MessageImportHandler implements OnModuleInit {
  /** Items per statement; 1 gives the one-insert-per-round-trip baseline for measurements. */
  batchSize = MESSAGE_IMPORT_BATCH;

  constructor(
    private readonly handlers: JobHandlers,
    private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.handlers.register('MESSAGE_IMPORT', (job, progress) => this.run(job, progress));
  }

  async run(job: JobEntity, progress: (n: number) => Promise<void>): Promise<JobItemError[]> {
    const errors: JobItemError[] = [];
    const keysInFile = new Set<string>();
    const size = Math.max(1, this.batchSize);
    for (let start = 0; start < job.input.length; start += size) {
      const batch: { index: number; item: MessageImport }[] = [];
      for (let index = start; index < Math.min(start + size, job.input.length); index++) {
        const parsed = MessageImportSchema.safeParse(job.input[index]);
        if (!parsed.success) {
          errors.push(itemError(index, parsed.error));
          continue;
        }
        const key = parsed.data.idempotency_key;
        if (key !== undefined) {
          if (keysInFile.has(key)) continue; // the same key twice in one file: the first one wins
          keysInFile.add(key);
        }
        batch.push({ index, item: parsed.data });
      }
      await this.insertBatch(job.applicationId, batch, errors);
      if (size >= 100 || (start + size) % 1000 === 0 || start + size >= job.input.length) await progress(Math.min(start + size, job.input.length));
    }
    errors.sort((a, b) => a.index - b.index);
    return errors;
  }

  private async insertBatch(applicationId: number, batch: { index: number; item: MessageImport }[], errors: JobItemError[]): Promise<void> {
    if (batch.length === 0) return;
    const seen = await seenKeys(this.db, applicationId, 'message', batch.flatMap((b) => (b.item.idempotency_key ? [b.item.idempotency_key] : [])));
    const todo = batch.filter((b) => !b.item.idempotency_key || !seen.has(b.item.idempotency_key));
    if (todo.length === 0) return;

    const channelIds = [...new Set(todo.map((b) => b.item.channel_id))];
    const usernames = [...new Set(todo.flatMap((b) => ('user' in b.item && b.item.user ? [b.item.user] : [])))];
    const [channels, users] = await Promise.all([
      this.db.query(`SELECT id FROM channels WHERE application_id = $1 AND id = ANY($2::bigint[])`, [applicationId, channelIds]) as Promise<{ id: string }[]>,
      usernames.length
        ? (this.db.query(`SELECT id, name FROM users WHERE application_id = $1 AND deleted_time IS NULL AND name = ANY($2::text[])`, [
            applicationId,
            usernames,
          ]) as Promise<{ id: string; name: string }[]>)
        : Promise.resolve([]),
    ]);
    const knownChannels = new Set(channels.map((c) => Number(c.id)));
    const userIds = new Map(users.map((u) => [u.name, Number(u.id)]));

    const rows: Record<string, unknown>[] = [];
    for (const { index, item } of todo) {
      if (!knownChannels.has(item.channel_id)) {
        errors.push({ index, message: `channel_id: Channel with id ${item.channel_id} not found` });
        continue;
      }
      const user = 'user' in item ? item.user : undefined;
      const userId = user === undefined ? null : userIds.get(user);
      if (userId === undefined) {
        errors.push({ index, message: `user: User with name ${user} not found` });
        continue;
      }
      const isText = item.type === 'TEXT' || item.type === 'SYSTEM_TEXT';
      const type = userId === null ? (isText ? 'SYSTEM_TEXT' : 'SYSTEM_FILE') : isText ? 'TEXT' : 'FILE';
      const f = 'file' in item ? item.file : undefined;
      rows.push({
        channel_id: item.channel_id,
        type,
        user_id: userId,
        body: 'body' in item ? item.body : null,
        file: f ? { type: 'EXTERNAL', url: f.url, name: f.name, contentType: f.content_type, size: f.size } : null,
        group_tag: item.group_tag ?? null,
        properties: item.properties,
        mentions: isText ? [] : null,
        created_time: item.created_time ?? null,
        idempotency_key: item.idempotency_key ?? null,
      });
    }
    if (rows.length === 0) return;

    // One statement: number the rows from the messages sequence, claim their keys, insert the claimed ones.
    await this.db.query(
      `WITH r AS MATERIALIZED (
         SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id, x.*
           FROM jsonb_to_recordset($2::jsonb) AS x(channel_id bigint, type text, user_id bigint, body text, file jsonb, group_tag text,
                                                   properties jsonb, mentions jsonb, created_time timestamptz, idempotency_key text)
       ), claimed AS (
         INSERT INTO import_keys (application_id, kind, idempotency_key, resource_id)
         SELECT $1, 'message', r.idempotency_key, r.id FROM r WHERE r.idempotency_key IS NOT NULL
         ON CONFLICT DO NOTHING
         RETURNING resource_id
       )
       INSERT INTO messages (id, application_id, channel_id, type, user_id, body, file, group_tag, properties, mentions, created_time)
       OVERRIDING SYSTEM VALUE
       SELECT r.id, $1, r.channel_id, r.type, r.user_id, r.body, r.file, r.group_tag, r.properties, r.mentions, coalesce(r.created_time, now())
         FROM r
        WHERE r.idempotency_key IS NULL OR r.id IN (SELECT resource_id FROM claimed)
        ORDER BY r.id`,
      [applicationId, JSON.stringify(rows)],
    );
  }
}
