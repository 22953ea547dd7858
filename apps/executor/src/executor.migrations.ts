import { MigrationInterface } from 'typeorm';
import { CreateInvocationDedup1764000000600 } from './migrations/create-invocation-dedup.migration';

/** TypeORM migrations owned by the executor service, in order. */
export const EXECUTOR_MIGRATIONS: (new () => MigrationInterface)[] = [CreateInvocationDedup1764000000600];
