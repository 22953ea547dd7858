import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { JobHandlers, JobItemError } from '../jobs/job-handlers';
import { JobEntity } from '../jobs/job.entity';
import { UserCommandsService } from '../users/user-commands.service';
import { UserEntity } from '../users/user.entity';

/** `ChatUserImport`. */
const ChatUserImportSchema = z.object({
  name: z.string().trim().min(1).max(256),
  display_name: z.string().trim().min(1).max(256),
  guest: z.boolean().default(false),
  properties: z.record(z.unknown()).default({}),
  idempotency_key: z.string().min(1).max(256).optional(),
  display_picture: z
    .object({ url: z.string().url(), name: z.string(), content_type: z.string(), size: z.number().int().min(0) })
    .passthrough()
    .optional(),
});

/**
 * USER_IMPORT jobs: each item in its own transaction (with its `user.created` event); an item with an
 * `idempotency_key` already imported is skipped, so re-running an import is safe.
 */
@Injectable()
export class UserImportHandler implements OnModuleInit {
  constructor(
    private readonly handlers: JobHandlers,
    private readonly commands: UserCommandsService,
    private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.handlers.register('USER_IMPORT', (job, progress) => this.run(job, progress));
  }

  async run(job: JobEntity, progress: (n: number) => Promise<void>): Promise<JobItemError[]> {
    const errors: JobItemError[] = [];
    for (let index = 0; index < job.input.length; index++) {
      const parsed = ChatUserImportSchema.safeParse(job.input[index]);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        errors.push({ index, message: `${i.path.join('.') || 'item'}: ${i.message}` });
        continue;
      }
      const item = parsed.data;
      try {
        await this.db.transaction(async (m) => {
          if (item.idempotency_key) {
            const seen: unknown[] = await m.query(
              `SELECT 1 FROM import_keys WHERE application_id = $1 AND kind = 'user' AND idempotency_key = $2`,
              [job.applicationId, item.idempotency_key],
            );
            if (seen.length) return;
          }
          const user = await this.commands.create(
            job.applicationId,
            { name: item.name, display_name: item.display_name, is_guest: item.guest, properties: item.properties },
            0,
            m,
          );
          if (item.display_picture) {
            await m.getRepository(UserEntity).update({ id: user.id }, { displayPictureUrl: item.display_picture.url });
          }
          if (item.idempotency_key) {
            await m.query(
              `INSERT INTO import_keys (application_id, kind, idempotency_key, resource_id) VALUES ($1, 'user', $2, $3)`,
              [job.applicationId, item.idempotency_key, user.id],
            );
          }
        });
      } catch (e) {
        errors.push({ index, message: (e as Error).message });
      }
      if ((index + 1) % 100 === 0) await progress(index + 1);
    }
    await progress(job.input.length);
    return errors;
  }
}
