import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `invocation_dedup` becomes the executor's durable inbox: an accepted request is stored with its claim (owner
 * instance and the request itself), so another executor can take over the invocations of one that died.
 */
export class InvocationInbox1764000000610 implements MigrationInterface {
  name = 'InvocationInbox1764000000610';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invocation_dedup ADD COLUMN owner text, ADD COLUMN request jsonb, ADD COLUMN cause jsonb`);
    await q.query(`CREATE INDEX invocation_dedup_running ON invocation_dedup (claimed_at) WHERE status = 'running'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX invocation_dedup_running`);
    await q.query(`ALTER TABLE invocation_dedup DROP COLUMN owner, DROP COLUMN request, DROP COLUMN cause`);
  }
}
