import { MigrationInterface } from 'typeorm';

/** TypeORM migrations owned by the executor service, in order. */
export const EXECUTOR_MIGRATIONS: (new () => MigrationInterface)[] = [];
