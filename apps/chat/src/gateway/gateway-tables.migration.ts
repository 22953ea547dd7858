import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The real-time gateway's bookkeeping: which gateway instance holds each user session (so a dropped instance's
 * sessions can be ended by the survivors), the resume token of a session (CONNECTED `session` header, sent back as
 * `StompX-Auth-Session-ID` on reconnect) and the instances' liveness.
 */
export class CreateGatewayTables1761000200000 implements MigrationInterface {
  name = 'CreateGatewayTables1761000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE user_sessions ADD COLUMN gateway_instance text, ADD COLUMN resume_token text`);
    await q.query(`CREATE UNIQUE INDEX user_sessions_resume_idx ON user_sessions (resume_token) WHERE resume_token IS NOT NULL`);
    await q.query(`CREATE INDEX user_sessions_instance_idx ON user_sessions (gateway_instance) WHERE state = 'ACTIVE'`);
    await q.query(`CREATE INDEX chat_sessions_session_idx ON chat_sessions (user_session_id) WHERE state = 'ACTIVE'`);
    await q.query(`
      CREATE TABLE gateway_instances (
        id text PRIMARY KEY,
        started_time timestamptz NOT NULL DEFAULT now(),
        heartbeat_time timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS gateway_instances`);
    await q.query(`DROP INDEX IF EXISTS chat_sessions_session_idx`);
    await q.query(`DROP INDEX IF EXISTS user_sessions_instance_idx`);
    await q.query(`DROP INDEX IF EXISTS user_sessions_resume_idx`);
    await q.query(`ALTER TABLE user_sessions DROP COLUMN IF EXISTS resume_token, DROP COLUMN IF EXISTS gateway_instance`);
  }
}
