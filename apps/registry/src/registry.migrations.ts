import { MigrationInterface } from 'typeorm';

/** TypeORM migrations owned by the registry service, in order. */
export const REGISTRY_MIGRATIONS: (new () => MigrationInterface)[] = [];
