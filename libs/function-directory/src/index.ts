export * from './env-crypto';
export * from './function-directory';
export * from './runtime-directory';
export * from './snapshot-queries';
