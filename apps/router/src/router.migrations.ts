import { MigrationInterface } from 'typeorm';

/** TypeORM migrations owned by the router service, in order. */
export const ROUTER_MIGRATIONS: (new () => MigrationInterface)[] = [];
