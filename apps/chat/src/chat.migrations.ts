import { MigrationInterface } from 'typeorm';
import { ChatCore1761000000000 } from './migrations/1761000000000-chat-core.migration';
import { CreateMessagingTables1761000100000 } from './channels/messaging-tables.migration';
import { CreateGatewayTables1761000200000 } from './gateway/gateway-tables.migration';

/** TypeORM migrations owned by the chat service, in order. */
export const CHAT_MIGRATIONS: (new () => MigrationInterface)[] = [ChatCore1761000000000, CreateMessagingTables1761000100000, CreateGatewayTables1761000200000];
