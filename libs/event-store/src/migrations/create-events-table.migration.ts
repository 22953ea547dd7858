import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The one events table. `transaction_id` lets `EventStore.readAll` hand projections only events whose writing
 * transaction (and every older one) has finished: positions are allocated at insert, not at commit, so reading by
 * position alone could skip an event that commits after a later position was already read.
 */
export class CreateEventsTable1735689600000 implements MigrationInterface {
  name = 'CreateEventsTable1735689600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE events (
        stream_id      text        NOT NULL,
        version        integer     NOT NULL CHECK (version > 0),
        type           text        NOT NULL,
        data           jsonb       NOT NULL,
        metadata       jsonb       NOT NULL DEFAULT '{}'::jsonb,
        recorded_at    timestamptz NOT NULL DEFAULT now(),
        position       bigserial   NOT NULL,
        transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
        CONSTRAINT events_pkey PRIMARY KEY (stream_id, version),
        CONSTRAINT events_position_key UNIQUE (position)
      )`);
    await queryRunner.query(`CREATE INDEX events_transaction_position_idx ON events (transaction_id, position)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE events`);
  }
}
