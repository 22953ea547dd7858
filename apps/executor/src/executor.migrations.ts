import { MigrationInterface } from 'typeorm';
import { CreateInvocationDedup1764000000600 } from './migrations/create-invocation-dedup.migration';
import { InvocationInbox1764000000610 } from './migrations/invocation-inbox.migration';

/** TypeORM migrations owned by the executor service, in order. */
export const EXECUTOR_MIGRATIONS: (new () => MigrationInterface)[] = [CreateInvocationDedup1764000000600, InvocationInbox1764000000610];
