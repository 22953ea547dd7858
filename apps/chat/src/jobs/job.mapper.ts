import { selfLinks } from '../shared/hal';
import { JobEntity } from './job.entity';

/** The SDK's `ApplicationJobResource`, plus chatfn's `processed`, `total` and `error` details. */
export function toJobResource(job: JobEntity, base: string) {
  const r: Record<string, unknown> = {
    type: job.type,
    id: job.id,
    created_time: job.createdTime.toISOString(),
    state: job.state,
  };
  if (job.endedTime) r.ended_time = job.endedTime.toISOString();
  if (job.file) r.file = job.file;
  r.processed = job.processed;
  if (Array.isArray(job.input)) r.total = job.input.length;
  if (job.error) r.error = job.error;
  r._links = selfLinks(base, `/jobs/${job.id}`);
  return r;
}
