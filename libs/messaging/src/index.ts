export * from './message-bus';
export * from './in-process.bus';
export * from './kafka.bus';
export * from './create-message-bus';
export * from './micro-batcher';
