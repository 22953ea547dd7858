import { DataSource } from 'typeorm';
import { EVENT_STORE_MIGRATIONS } from './migrations';
import { runMigrations } from './run-migrations';
import { createDatabase, dataSourceFor } from './testing/test-database';

describe('event store migrations (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  const dataSources: DataSource[] = [];

  beforeAll(async () => {
    db = await createDatabase('es_migrations');
  });
  afterAll(async () => {
    await Promise.all(dataSources.filter((d) => d.isInitialized).map((d) => d.destroy()));
    await db?.drop();
  });

  async function open(): Promise<DataSource> {
    const dataSource = await dataSourceFor(db.url, 3).initialize();
    dataSources.push(dataSource);
    return dataSource;
  }

  async function tables(dataSource: DataSource): Promise<string[]> {
    const rows: { name: string }[] = await dataSource.query(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('events', 'outbox')
       UNION ALL
       SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('events', 'outbox')
       ORDER BY 1`,
    );
    return rows.map((r) => r.name);
  }

  it('runs once when several services migrate the same database at once', async () => {
    const services = await Promise.all([open(), open(), open()]);

    const ran = await Promise.all(services.map((s) => runMigrations(s)));

    expect(ran.map((r) => r.length).sort()).toEqual([0, 0, EVENT_STORE_MIGRATIONS.length]);
    const executed: { name: string }[] = await services[0].query('SELECT name FROM migrations ORDER BY id');
    expect(executed.map((m) => m.name)).toEqual(EVENT_STORE_MIGRATIONS.map((m) => m.name));
    expect(await tables(services[0])).toEqual([
      'events',
      'events_pkey',
      'events_position_key',
      'events_transaction_position_idx',
      'outbox',
      'outbox_pkey',
      'outbox_unpublished_idx',
    ]);
  });

  it('reverts cleanly and applies again', async () => {
    const dataSource = await open();

    await dataSource.undoLastMigration({ transaction: 'all' });
    expect(await tables(dataSource)).toEqual(['events', 'events_pkey', 'events_position_key', 'events_transaction_position_idx']);
    await dataSource.undoLastMigration({ transaction: 'all' });
    expect(await tables(dataSource)).toEqual([]);

    expect(await runMigrations(dataSource)).toHaveLength(EVENT_STORE_MIGRATIONS.length);
    expect(await tables(dataSource)).toHaveLength(7);
  });
});
