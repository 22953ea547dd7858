import { MigrationInterface, QueryRunner } from 'typeorm';

/** Claims of invocation work, so a redelivered request for the same (event, function, version) does not run twice. */
export class CreateInvocationDedup1764000000600 implements MigrationInterface {
  name = 'CreateInvocationDedup1764000000600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE invocation_dedup (
        source_event_id text NOT NULL,
        function_id integer NOT NULL,
        version_number integer NOT NULL,
        invocation_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'done')),
        claimed_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        PRIMARY KEY (source_event_id, function_id, version_number)
      )`);
    await q.query(`CREATE INDEX invocation_dedup_claimed_at ON invocation_dedup (claimed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE invocation_dedup`);
  }
}
