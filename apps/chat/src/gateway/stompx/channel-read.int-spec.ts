import { DataSource } from 'typeorm';
import { createTestDatabase } from '@chatfn/testing';
import { CHAT_MIGRATIONS } from '../../chat.migrations';
import { CHANNEL_READ_SQL } from './stompx.service';

/**
 * Reading a whole channel inserts a receipt per message into the table it must not double. Planned as an anti-join
 * against that table while its statistics say it is empty, PostgreSQL scans the receipts once per message, and each
 * scan reads every receipt the statement has inserted so far: quadratic. The statement must not read the receipts at
 * all (the primary key skips existing ones); the second test shows the trap is real, so the first can fail.
 */
describe('channel read statement (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('channel_read');
    ds = new DataSource({ type: 'postgres', url: db.url, migrations: CHAT_MIGRATIONS, poolSize: 2 });
    await ds.initialize();
    await ds.runMigrations();
    await ds.query(`
      INSERT INTO applications (name, client_id, client_secret_hash, api_key) VALUES ('a', 'c', 'h', 'k');
      INSERT INTO users (application_id, name, display_name) VALUES (1, 'writer', 'W'), (1, 'reader', 'R');
      INSERT INTO channels (application_id, type, name, display_name, creator_id) VALUES (1, 'PUBLIC', 'big', 'Big', 1);
      INSERT INTO channel_members (channel_id, user_id, application_id) VALUES (1, 1, 1), (1, 2, 1);
      INSERT INTO messages (application_id, channel_id, type, user_id, body, nested_level, created_time)
      SELECT 1, 1, 'TEXT', CASE WHEN g % 10 = 0 THEN 2 ELSE 1 END, 'm' || g, 0, now() FROM generate_series(1, 20000) g;
      ANALYZE;`);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const plan = async (sql: string): Promise<string> =>
    (await ds.query(`EXPLAIN ${sql.replace(/\$1/g, '1').replace(/\$2/g, '2')}`)).map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');

  it('never scans the receipts, and marks every message of others read, once', async () => {
    expect(await plan(CHANNEL_READ_SQL)).not.toMatch(/message_read_receipts r|Scan on message_read_receipts/);
    await ds.query(CHANNEL_READ_SQL, [1, 2]);
    await ds.query(CHANNEL_READ_SQL, [1, 2]);
    const [{ n, own }] = await ds.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE m.user_id = 2)::int AS own
         FROM message_read_receipts r JOIN messages m ON m.id = r.message_id WHERE r.user_id = 2`,
    );
    expect({ n, own }).toEqual({ n: 18_000, own: 0 });
  });

  it('(the trap) an anti-join against the receipts, analysed empty, is planned as a scan per message', async () => {
    await ds.query(`DELETE FROM message_read_receipts`);
    await ds.query(`VACUUM ANALYZE message_read_receipts`);
    const antiJoin = `INSERT INTO message_read_receipts (message_id, user_id)
      SELECT m.id, $2 FROM messages m WHERE m.channel_id = $1 AND m.user_id IS DISTINCT FROM $2
        AND NOT EXISTS (SELECT 1 FROM message_read_receipts r WHERE r.message_id = m.id AND r.user_id = $2)
      ON CONFLICT DO NOTHING`;
    expect(await plan(antiJoin)).toMatch(/Nested Loop Anti Join[\s\S]*Seq Scan on message_read_receipts r/);
  });
});
