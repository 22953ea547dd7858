import { MigrationInterface, QueryRunner } from 'typeorm';

/** Envelopes waiting for the outbox relay; the partial index keeps the relay's scan small however many published
 * rows the retention keeps. */
export class CreateOutboxTable1735689600001 implements MigrationInterface {
  name = 'CreateOutboxTable1735689600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE outbox (
        id           bigserial   PRIMARY KEY,
        topic        text        NOT NULL,
        key          text        NOT NULL,
        envelope     jsonb       NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz NULL
      )`);
    await queryRunner.query(`CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE outbox`);
  }
}
