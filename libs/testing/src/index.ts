export * from './database';
export * from './test-server';
export * from './wait-for';
