import { MigrationInterface } from 'typeorm';
import { RUNTIME_ARTIFACTS_MIGRATIONS } from '@chatfn/runtime-artifacts';

/** TypeORM migrations owned by the builder service, in order (`runtime_builds`, shared with ArtifactDirectory). */
export const BUILDER_MIGRATIONS: (new () => MigrationInterface)[] = [...RUNTIME_ARTIFACTS_MIGRATIONS];
