import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { ApiException } from '@chatfn/platform';
import { JobHandlers } from './job-handlers';
import { JobEntity, JobError, JobType } from './job.entity';

const POLL_MS = 2_000;

/**
 * Application jobs: created PENDING, claimed by one instance (`FOR UPDATE SKIP LOCKED`), RUNNING, then FINISHED or
 * FAILED with details. New jobs start at once; a poll picks up jobs left by other instances or a restart.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    private readonly handlers: JobHandlers,
  ) {}

  onApplicationBootstrap(): void {
    // Jobs RUNNING at start-up were interrupted by a crash of their instance; handlers are idempotent per item.
    // (With several instances a job may still be RUNNING elsewhere: only PENDING jobs are claimed by the poll.)
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /** Before the database closes (TypeORM closes it on application shutdown), so a drain never outlives it. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.draining?.catch(() => undefined);
  }

  async create(applicationId: number, type: JobType, input: unknown[], opts: { file?: string; params?: Record<string, unknown> } = {}) {
    if (!this.handlers.has(type)) throw ApiException.notImplemented(`${type} jobs`);
    const job = await this.jobs.save(
      this.jobs.create({ applicationId, type, state: 'PENDING', input, file: opts.file ?? null, params: opts.params ?? {} }),
    );
    this.kick();
    return job;
  }

  async get(applicationId: number, id: number): Promise<JobEntity> {
    const job = await this.jobs.findOneBy({ id, applicationId });
    if (!job) throw ApiException.notFound('Job', id);
    return job;
  }

  list(applicationId: number, page: number, size: number, running?: boolean): Promise<[JobEntity[], number]> {
    return this.jobs.findAndCount({
      where: { applicationId, ...(running === undefined ? {} : { state: In(running ? ['PENDING', 'RUNNING'] : ['FINISHED', 'FAILED']) }) },
      order: { id: 'DESC' },
      skip: page * size,
      take: size,
      select: ['id', 'applicationId', 'type', 'state', 'file', 'params', 'processed', 'error', 'createdTime', 'endedTime'],
    });
  }

  /** Starts draining pending jobs unless a drain is running (which then goes round once more). */
  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain()
      .catch((e) => this.logger.error(`job runner: ${(e as Error).stack ?? e}`))
      .finally(() => {
        this.draining = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const job = await this.claim();
      if (!job) return;
      await this.run(job);
    }
  }

  private async claim(): Promise<JobEntity | undefined> {
    const rows: { id: string }[] = await this.jobs.query(
      `UPDATE application_jobs SET state = 'RUNNING'
       WHERE id = (SELECT id FROM application_jobs WHERE state = 'PENDING' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
       RETURNING id`,
    );
    // RETURNING through query() yields [rows, count] for UPDATE in TypeORM's postgres driver.
    const list = (Array.isArray(rows[0]) ? rows[0] : rows) as { id: string }[];
    if (!list.length) return undefined;
    return (await this.jobs.findOneBy({ id: Number(list[0].id) })) ?? undefined;
  }

  private async run(job: JobEntity): Promise<void> {
    const handler = this.handlers.get(job.type);
    let state: 'FINISHED' | 'FAILED' = 'FINISHED';
    let error: JobError | null = null;
    try {
      if (!handler) throw new Error(`no handler for ${job.type} jobs in this installation`);
      const problems = await handler(job, (processed) => this.jobs.update({ id: job.id }, { processed }).then(() => undefined));
      if (problems.length) {
        state = 'FAILED';
        error = { message: `${problems.length} of ${job.input.length} items could not be imported`, items: problems.slice(0, 1000) };
      }
    } catch (e) {
      state = 'FAILED';
      error = { message: (e as Error).message ?? String(e) };
      this.logger.warn(`job ${job.id} (${job.type}) failed: ${error.message}`);
    }
    await this.jobs.update({ id: job.id }, { state, error, endedTime: new Date() });
  }
}
