import { createHash } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ChannelsService } from '../channels/channels.service';
import { JobHandlers, JobItemError } from '../jobs/job-handlers';
import { JobEntity } from '../jobs/job.entity';
import { IdempotencyKey, itemError, seenKeys } from './import-item';

const username = z.string().min(1).max(256);
const common = {
  creator: username.optional(),
  idempotency_key: IdempotencyKey.optional(),
  properties: z.record(z.unknown()).default({}),
};
const group = {
  ...common,
  members: z.array(username).max(1000).default([]),
  name: z.string().min(1).max(256).optional(),
  display_name: z.string().min(1).max(256).optional(),
};

/** `ChannelImport`: `DirectChannelImport` / `PublicChannelImport` / `PrivateChannelImport` (members are usernames). */
const ChannelImportSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('DIRECT'), ...common, members: z.array(username).min(1).max(100) }),
    z.object({ type: z.literal('PUBLIC'), ...group }),
    z.object({ type: z.literal('PRIVATE'), ...group }),
  ],
  { errorMap: (issue, ctx) => (issue.code === 'invalid_union_discriminator' ? { message: 'must be one of DIRECT, PUBLIC, PRIVATE' } : { message: ctx.defaultError }) },
);

/** Items whose keys are looked up with one query. */
const KEY_BATCH = 500;

/**
 * CHANNEL_IMPORT jobs: each item is created by `ChannelsService.create`, exactly as `POST /v1/channels` would (one
 * transaction with its `channel.created` and `channel.member.added` events; a DIRECT channel of the same members,
 * or a group channel of the same name, is the existing one). Then the item's `idempotency_key` is recorded; an
 * item whose key is already recorded is skipped. A group channel without a name gets a UUID derived from its key
 * (instead of a random one), so an item whose channel was created but whose key was not recorded (a crash in
 * between) finds its channel again by name on the re-run.
 */
@Injectable()
export class ChannelImportHandler implements OnModuleInit {
  constructor(
    private readonly handlers: JobHandlers,
    private readonly channels: ChannelsService,
    private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.handlers.register('CHANNEL_IMPORT', (job, progress) => this.run(job, progress));
  }

  async run(job: JobEntity, progress: (n: number) => Promise<void>): Promise<JobItemError[]> {
    const app = job.applicationId;
    const errors: JobItemError[] = [];
    for (let start = 0; start < job.input.length; start += KEY_BATCH) {
      const end = Math.min(start + KEY_BATCH, job.input.length);
      const parsed = job.input.slice(start, end).map((raw) => ChannelImportSchema.safeParse(raw));
      const seen = await seenKeys(this.db, app, 'channel', parsed.flatMap((p) => (p.success && p.data.idempotency_key ? [p.data.idempotency_key] : [])));
      for (let i = 0; i < parsed.length; i++) {
        const index = start + i;
        const p = parsed[i];
        if (!p.success) {
          errors.push(itemError(index, p.error));
          continue;
        }
        const item = p.data;
        if (item.idempotency_key && seen.has(item.idempotency_key)) continue;
        try {
          const channel = await this.channels.create(
            app,
            {
              ...item,
              ...(item.type !== 'DIRECT' && !item.name && item.idempotency_key ? { name: keyUuid(app, item.idempotency_key) } : {}),
              creator: item.creator ? { username: item.creator } : undefined,
              members: item.members.map((m) => ({ username: m })),
            },
            0,
          );
          if (item.idempotency_key) {
            seen.add(item.idempotency_key);
            await this.db.query(
              `INSERT INTO import_keys (application_id, kind, idempotency_key, resource_id) VALUES ($1, 'channel', $2, $3) ON CONFLICT DO NOTHING`,
              [app, item.idempotency_key, channel.id],
            );
          }
        } catch (e) {
          errors.push({ index, message: (e as Error).message });
        }
      }
      await progress(end);
    }
    return errors;
  }
}

/** A UUID-shaped name that is the same for the same application and key. */
export function keyUuid(applicationId: number, key: string): string {
  const h = createHash('sha256').update(`chatfn-channel-import:${applicationId}:${key}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5 layout (name-based)
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
