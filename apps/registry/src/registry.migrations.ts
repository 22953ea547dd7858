import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models of the registry. The event streams (`function-<id>`, `runtime-<appId>`) are the history; these
 * tables are what the API and the directories read. Ids are bigint identities; the pg driver returns them as
 * strings, so readers convert with Number().
 */
export class CreateRegistryTables1767225600000 implements MigrationInterface {
  name = 'CreateRegistryTables1767225600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE functions (
        id                     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id         bigint      NOT NULL,
        trigger_type           text        NOT NULL,
        name                   text        NOT NULL,
        description            text        NULL,
        enabled                boolean     NOT NULL DEFAULT false,
        current_version_number integer     NOT NULL DEFAULT 0,
        current_version_id     bigint      NULL,
        timeout_ms             integer     NOT NULL,
        failure_policy         text        NOT NULL DEFAULT 'deny' CHECK (failure_policy IN ('deny', 'allow')),
        stream_version         integer     NOT NULL DEFAULT 0,
        created_time           timestamptz NOT NULL DEFAULT now(),
        updated_time           timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT functions_application_trigger_key UNIQUE (application_id, trigger_type)
      )`);
    await q.query(`
      CREATE TABLE function_versions (
        id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        function_id     bigint      NOT NULL REFERENCES functions (id) ON DELETE CASCADE,
        version_number  integer     NOT NULL CHECK (version_number > 0),
        handler_script  text        NOT NULL,
        compiled_script text        NOT NULL,
        rolled_back_from integer    NULL,
        created_time    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT function_versions_function_number_key UNIQUE (function_id, version_number)
      )`);
    await q.query(`ALTER TABLE functions ADD CONSTRAINT functions_current_version_fk
      FOREIGN KEY (current_version_id) REFERENCES function_versions (id) DEFERRABLE INITIALLY DEFERRED`);
    await q.query(`
      CREATE TABLE runtimes (
        id                    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id        bigint      NOT NULL UNIQUE,
        dependencies          jsonb       NOT NULL DEFAULT '[]'::jsonb,
        initialization_script text        NOT NULL DEFAULT '',
        revision              integer     NOT NULL DEFAULT 1,
        environment_revision  integer     NOT NULL DEFAULT 0,
        stream_version        integer     NOT NULL DEFAULT 0,
        build_status          text        NULL,
        build_id              text        NULL,
        build_revision        integer     NULL,
        build_error           text        NULL,
        created_time          timestamptz NOT NULL DEFAULT now(),
        updated_time          timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE runtime_environment_variables (
        application_id bigint NOT NULL,
        name           text   NOT NULL,
        value_encrypted text  NOT NULL,
        PRIMARY KEY (application_id, name)
      )`);
    await q.query(`
      CREATE TABLE function_invocations (
        id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        invocation_id      text        NOT NULL UNIQUE,
        application_id     bigint      NOT NULL,
        function_id        bigint      NOT NULL,
        trigger_type       text        NOT NULL,
        version_number     integer     NOT NULL,
        status             text        NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED')),
        args               jsonb       NOT NULL DEFAULT '{}'::jsonb,
        result             jsonb       NULL,
        error              jsonb       NULL,
        logs               text        NOT NULL DEFAULT '',
        duration_ms        double precision NULL,
        attempt            integer     NOT NULL DEFAULT 1,
        correlation_id     text        NULL,
        dead_lettered      boolean     NOT NULL DEFAULT false,
        dead_letter_request jsonb      NULL,
        redriven_as        text        NULL,
        created_time       timestamptz NOT NULL DEFAULT now(),
        finished_time      timestamptz NULL
      )`);
    await q.query(`CREATE INDEX function_invocations_function_idx ON function_invocations (function_id, created_time DESC, id DESC)`);
    await q.query(`CREATE INDEX function_invocations_created_idx ON function_invocations (created_time)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE function_invocations`);
    await q.query(`DROP TABLE runtime_environment_variables`);
    await q.query(`DROP TABLE runtimes`);
    await q.query(`ALTER TABLE functions DROP CONSTRAINT functions_current_version_fk`);
    await q.query(`DROP TABLE function_versions`);
    await q.query(`DROP TABLE functions`);
  }
}

/** TypeORM migrations owned by the registry service, in order. */
export const REGISTRY_MIGRATIONS: (new () => MigrationInterface)[] = [CreateRegistryTables1767225600000];
