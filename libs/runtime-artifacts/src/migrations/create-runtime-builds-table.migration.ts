import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Runtime builds: one row per (application, driver, runtime revision), with its status, artifact, logs and lockfile.
 * `live` marks the artifact an application's runners use (at most one per application and driver).
 */
export class CreateRuntimeBuildsTable1735689700000 implements MigrationInterface {
  name = 'CreateRuntimeBuildsTable1735689700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE runtime_builds (
        id                   uuid        PRIMARY KEY,
        application_id       integer     NOT NULL,
        runtime_id           integer     NOT NULL,
        runtime_revision     integer     NOT NULL,
        environment_revision integer     NOT NULL DEFAULT 0,
        driver               text        NOT NULL CHECK (driver IN ('process', 'docker')),
        reason               text        NOT NULL,
        status               text        NOT NULL CHECK (status IN ('requested', 'started', 'succeeded', 'failed', 'skipped')),
        content_hash         text        NOT NULL,
        dependencies_hash    text        NOT NULL,
        dependencies         jsonb       NOT NULL,
        initialization_script text       NOT NULL DEFAULT '',
        image                text        NULL,
        directory            text        NULL,
        lockfile             text        NULL,
        reused               boolean     NOT NULL DEFAULT false,
        live                 boolean     NOT NULL DEFAULT false,
        error                text        NULL,
        logs                 text        NOT NULL DEFAULT '',
        requested_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        started_at           timestamptz NULL,
        finished_at          timestamptz NULL,
        CONSTRAINT runtime_builds_revision_key UNIQUE (application_id, driver, runtime_revision)
      )`);
    await q.query(`CREATE INDEX runtime_builds_app_idx ON runtime_builds (application_id, requested_at DESC)`);
    await q.query(`CREATE UNIQUE INDEX runtime_builds_live_idx ON runtime_builds (application_id, driver) WHERE live`);
    await q.query(`CREATE INDEX runtime_builds_hash_idx ON runtime_builds (driver, content_hash)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE runtime_builds`);
  }
}

export const RUNTIME_ARTIFACTS_MIGRATIONS = [CreateRuntimeBuildsTable1735689700000];
