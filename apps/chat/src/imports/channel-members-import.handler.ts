import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ChannelsService } from '../channels/channels.service';
import { JobHandlers, JobItemError } from '../jobs/job-handlers';
import { JobEntity } from '../jobs/job.entity';
import { IdempotencyKey, itemError, seenKeys } from './import-item';

/** `ChannelMembershipImport`. */
const ChannelMembershipImportSchema = z.object({
  username: z.string().min(1).max(256),
  idempotency_key: IdempotencyKey.optional(),
});

const KEY_BATCH = 500;

/** Parameters of a CHANNEL_MEMBERS_IMPORT job (set by the controller, which checked the channel). */
export const MembersImportParamsSchema = z.object({ channelId: z.number().int().positive() });

/**
 * CHANNEL_MEMBERS_IMPORT jobs: each user is added by `ChannelsService.addMember`, as `POST /v1/channels/{id}/members`
 * would (a `channel.member.added` event when the user was not a member yet; adding a member twice is a no-op). An
 * item whose `idempotency_key` is recorded is skipped, so a re-run does not add back a member removed since.
 * The channel deleted before the job ran fails the job.
 */
@Injectable()
export class ChannelMembersImportHandler implements OnModuleInit {
  constructor(
    private readonly handlers: JobHandlers,
    private readonly channels: ChannelsService,
    private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.handlers.register('CHANNEL_MEMBERS_IMPORT', (job, progress) => this.run(job, progress));
  }

  async run(job: JobEntity, progress: (n: number) => Promise<void>): Promise<JobItemError[]> {
    const app = job.applicationId;
    const { channelId } = MembersImportParamsSchema.parse(job.params);
    await this.channels.get(app, channelId); // 404 → the whole job fails: "Channel with id … not found"
    const errors: JobItemError[] = [];
    for (let start = 0; start < job.input.length; start += KEY_BATCH) {
      const end = Math.min(start + KEY_BATCH, job.input.length);
      const parsed = job.input.slice(start, end).map((raw) => ChannelMembershipImportSchema.safeParse(raw));
      // Keys are per channel: the same file imported into two channels adds the users to both.
      const key = (k: string) => `${channelId}:${k}`;
      const seen = await seenKeys(this.db, app, 'channel_member', parsed.flatMap((p) => (p.success && p.data.idempotency_key ? [key(p.data.idempotency_key)] : [])));
      for (let i = 0; i < parsed.length; i++) {
        const index = start + i;
        const p = parsed[i];
        if (!p.success) {
          errors.push(itemError(index, p.error));
          continue;
        }
        const k = p.data.idempotency_key && key(p.data.idempotency_key);
        if (k && seen.has(k)) continue;
        try {
          await this.channels.addMember(app, channelId, { username: p.data.username }, 0);
          if (k) {
            seen.add(k);
            const [user] = await this.channels.users(app, [{ username: p.data.username }]);
            await this.db.query(
              `INSERT INTO import_keys (application_id, kind, idempotency_key, resource_id) VALUES ($1, 'channel_member', $2, $3) ON CONFLICT DO NOTHING`,
              [app, k, user.id],
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
