import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { EVENT_STORE_MIGRATIONS } from '../migrations';
import { runMigrations } from '../run-migrations';

/** A fresh database on the server of DATABASE_URL (started by the jest global setup), dropped by `drop()`. */
export async function createDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: run through jest (its global setup starts PostgreSQL)');
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await adminQuery(base, `CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export function dataSourceFor(url: string, poolSize = 10): DataSource {
  return new DataSource({ type: 'postgres', url, migrations: EVENT_STORE_MIGRATIONS, poolSize });
}

/** A new database with the event store's tables, and a DataSource on it. */
export async function migratedDatabase(prefix: string): Promise<{ dataSource: DataSource; close(): Promise<void> }> {
  const db = await createDatabase(prefix);
  const dataSource = await dataSourceFor(db.url).initialize();
  await runMigrations(dataSource);
  return {
    dataSource,
    close: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await db.drop();
    },
  };
}
