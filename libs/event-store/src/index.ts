export * from './event-store';
export * from './event-store.error';
export * from './event-store.types';
export * from './migrations';
export * from './outbox-relay';
export { OUTBOX_CHANNEL } from './outbox-signal';
export * from './run-migrations';
export { preparedQuery } from './prepared-query';
