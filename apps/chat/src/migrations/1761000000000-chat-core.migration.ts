import { MigrationInterface, QueryRunner } from 'typeorm';

/** Applications, users (+ secrets), user and chat sessions, application jobs and import idempotency keys. */
export class ChatCore1761000000000 implements MigrationInterface {
  name = 'ChatCore1761000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE applications (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL,
        client_id text NOT NULL UNIQUE,
        client_secret_hash text NOT NULL,
        api_key text NOT NULL UNIQUE,
        guest_users text NOT NULL DEFAULT 'DISABLED' CHECK (guest_users IN ('DISABLED', 'ENABLED')),
        user_created_channels text NOT NULL DEFAULT 'DISABLED' CHECK (user_created_channels IN ('DISABLED', 'ENABLED')),
        properties jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_time timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id bigint NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        name text NOT NULL,
        display_name text NOT NULL,
        display_picture_url text,
        is_guest boolean NOT NULL DEFAULT false,
        type text NOT NULL DEFAULT 'PERSON' CHECK (type IN ('PERSON', 'BOT')),
        properties jsonb NOT NULL DEFAULT '{}'::jsonb,
        presence_online boolean NOT NULL DEFAULT false,
        presence_status text NOT NULL DEFAULT 'UNAVAILABLE',
        call_status text CHECK (call_status IN ('AVAILABLE', 'IN_CALL')),
        created_time timestamptz NOT NULL DEFAULT now(),
        deleted_time timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX users_app_name_uq ON users (application_id, name) WHERE deleted_time IS NULL`);
    await q.query(`CREATE INDEX users_app_id_idx ON users (application_id, id) WHERE deleted_time IS NULL`);
    await q.query(`CREATE INDEX users_properties_idx ON users USING gin (properties jsonb_path_ops)`);
    await q.query(`
      CREATE TABLE user_secrets (
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name text NOT NULL,
        value_encrypted text NOT NULL,
        updated_time timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, name)
      )`);
    await q.query(`
      CREATE TABLE user_sessions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id bigint NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        state text NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'ENDED')),
        user_agent text,
        created_time timestamptz NOT NULL DEFAULT now(),
        end_time timestamptz
      )`);
    await q.query(`CREATE INDEX user_sessions_app_state_idx ON user_sessions (application_id, state, id)`);
    await q.query(`CREATE INDEX user_sessions_user_idx ON user_sessions (user_id, state)`);
    await q.query(`
      CREATE TABLE chat_sessions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id bigint NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        user_session_id bigint NOT NULL REFERENCES user_sessions(id) ON DELETE CASCADE,
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        channel_id bigint NOT NULL,
        state text NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'ENDED')),
        created_time timestamptz NOT NULL DEFAULT now(),
        end_time timestamptz
      )`);
    await q.query(`CREATE INDEX chat_sessions_app_state_idx ON chat_sessions (application_id, state, id)`);
    await q.query(`CREATE INDEX chat_sessions_channel_idx ON chat_sessions (channel_id, state)`);
    await q.query(`
      CREATE TABLE application_jobs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id bigint NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        type text NOT NULL,
        state text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'RUNNING', 'FINISHED', 'FAILED')),
        file text,
        params jsonb NOT NULL DEFAULT '{}'::jsonb,
        input jsonb NOT NULL DEFAULT '[]'::jsonb,
        processed int NOT NULL DEFAULT 0,
        error jsonb,
        created_time timestamptz NOT NULL DEFAULT now(),
        ended_time timestamptz
      )`);
    await q.query(`CREATE INDEX application_jobs_app_idx ON application_jobs (application_id, id)`);
    await q.query(`CREATE INDEX application_jobs_pending_idx ON application_jobs (id) WHERE state IN ('PENDING', 'RUNNING')`);
    await q.query(`
      CREATE TABLE import_keys (
        application_id bigint NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        kind text NOT NULL,
        idempotency_key text NOT NULL,
        resource_id bigint NOT NULL,
        created_time timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (application_id, kind, idempotency_key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['import_keys', 'application_jobs', 'chat_sessions', 'user_sessions', 'user_secrets', 'users', 'applications']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
