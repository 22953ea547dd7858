import { Injectable } from '@nestjs/common';
import { JobEntity, JobType } from './job.entity';

export interface JobItemError {
  index: number;
  message: string;
}

/**
 * Processes one job's items; returns per-item problems (the job then ends FAILED with them as details, the
 * other items being kept). Throwing fails the whole job with the error's message. Must be idempotent per item:
 * a job interrupted by a crash runs again from the start.
 */
export type JobHandler = (job: JobEntity, progress: (processed: number) => Promise<void>) => Promise<JobItemError[]>;

/**
 * Which job types this installation can run. Feature modules register theirs at start-up
 * (`onModuleInit() { handlers.register('CHANNEL_IMPORT', (job) => ...) }`); an import of a type nobody handles is 501.
 */
@Injectable()
export class JobHandlers {
  private readonly handlers = new Map<JobType, JobHandler>();

  register(type: JobType, handler: JobHandler): void {
    if (this.handlers.has(type)) throw new Error(`a handler for ${type} jobs is already registered`);
    this.handlers.set(type, handler);
  }

  get(type: JobType): JobHandler | undefined {
    return this.handlers.get(type);
  }

  has(type: JobType): boolean {
    return this.handlers.has(type);
  }
}
