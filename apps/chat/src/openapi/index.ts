export * from './openapi.registry';
