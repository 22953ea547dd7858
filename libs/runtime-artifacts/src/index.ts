export * from './artifact-directory';
export * from './migrations/create-runtime-builds-table.migration';
export * from './runtime-artifacts.module';
export * from './runtime-build.repository';
export * from './runtime-layout';
