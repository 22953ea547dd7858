export * from './envelope';
export * from './resources.schema';
export * from './topics';
export * from './triggers';
