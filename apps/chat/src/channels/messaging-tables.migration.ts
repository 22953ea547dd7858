import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Channels, memberships, invites, messages (threads are messages with a parent), read receipts and notifications.
 * Lists are served newest-first by id, so every list has an index ending in `id`.
 */
export class CreateMessagingTables1761000100000 implements MigrationInterface {
  name = 'CreateMessagingTables1761000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE channels (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id bigint NOT NULL,
        type text NOT NULL CHECK (type IN ('PUBLIC', 'PRIVATE', 'DIRECT')),
        name text,
        display_name text,
        creator_id bigint,
        properties jsonb NOT NULL DEFAULT '{}'::jsonb,
        direct_key text,
        created_time timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX channels_app_name_uq ON channels (application_id, name) WHERE name IS NOT NULL`);
    await q.query(
      `CREATE UNIQUE INDEX channels_app_direct_uq ON channels (application_id, direct_key) WHERE direct_key IS NOT NULL`,
    );
    await q.query(`CREATE INDEX channels_app_id_idx ON channels (application_id, id)`);
    await q.query(`
      CREATE TABLE channel_members (
        channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
        user_id bigint NOT NULL,
        application_id bigint NOT NULL,
        moderator boolean NOT NULL DEFAULT false,
        created_time timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, user_id)
      )`);
    await q.query(`CREATE INDEX channel_members_user_idx ON channel_members (user_id, channel_id)`);
    await q.query(`
      CREATE TABLE channel_invites (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
        user_id bigint NOT NULL,
        inviting_user_id bigint,
        created_time timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX channel_invites_channel_idx ON channel_invites (channel_id, id)`);
    await q.query(`
      CREATE TABLE messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id bigint NOT NULL,
        channel_id bigint NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
        type text NOT NULL CHECK (type IN ('TEXT', 'FILE', 'SYSTEM_TEXT', 'SYSTEM_FILE')),
        user_id bigint,
        body text,
        file jsonb,
        group_tag text,
        properties jsonb NOT NULL DEFAULT '{}'::jsonb,
        mentions jsonb,
        parent_id bigint REFERENCES messages (id) ON DELETE CASCADE,
        nested_level int NOT NULL DEFAULT 0,
        replies_count int NOT NULL DEFAULT 0,
        report_count int NOT NULL DEFAULT 0,
        last_edited_time timestamptz,
        created_time timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX messages_channel_idx ON messages (channel_id, id) WHERE parent_id IS NULL`);
    await q.query(`CREATE INDEX messages_parent_idx ON messages (parent_id, id) WHERE parent_id IS NOT NULL`);
    await q.query(`CREATE INDEX messages_app_idx ON messages (application_id, id)`);
    await q.query(`CREATE INDEX messages_user_idx ON messages (user_id, id) WHERE user_id IS NOT NULL`);
    await q.query(`CREATE INDEX messages_reported_idx ON messages (channel_id, id) WHERE report_count > 0`);
    await q.query(`
      CREATE TABLE message_read_receipts (
        message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        user_id bigint NOT NULL,
        created_time timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (message_id, user_id)
      )`);
    await q.query(`CREATE INDEX message_read_receipts_user_idx ON message_read_receipts (user_id, message_id)`);
    await q.query(`
      CREATE TABLE notifications (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        application_id bigint NOT NULL,
        user_id bigint NOT NULL,
        channel_id bigint REFERENCES channels (id) ON DELETE CASCADE,
        title text NOT NULL,
        body text NOT NULL,
        data jsonb NOT NULL,
        muted boolean NOT NULL DEFAULT false,
        read_time timestamptz,
        created_time timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX notifications_user_idx ON notifications (user_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['notifications', 'message_read_receipts', 'messages', 'channel_invites', 'channel_members', 'channels']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
