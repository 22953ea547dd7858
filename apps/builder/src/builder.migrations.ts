import { MigrationInterface } from 'typeorm';

/** TypeORM migrations owned by the builder service, in order. */
export const BUILDER_MIGRATIONS: (new () => MigrationInterface)[] = [];
