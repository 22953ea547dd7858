import { MigrationInterface } from 'typeorm';

/** TypeORM migrations owned by the chat service, in order. */
export const CHAT_MIGRATIONS: (new () => MigrationInterface)[] = [];
