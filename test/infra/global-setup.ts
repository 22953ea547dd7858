/**
 * jest globalSetup (integration and e2e projects): starts PostgreSQL and Kafka once per jest run, in parallel,
 * and exports DATABASE_URL and KAFKA_BROKERS to the test workers (they are forked after this runs and inherit
 * process.env). Already-set DATABASE_URL / KAFKA_BROKERS are reused as they are.
 *
 * Handles go on globalThis for global-teardown.ts (same process). PIDs and dirs are also written to
 * .chatfn/test-infra/<jest pid>.json so that a run killed before its teardown gets cleaned up by the next run, and a
 * process 'exit' hook kills by PID whatever teardown did not stop (jest crash, Ctrl-C, failed setup).
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaHandle, startKafka, stopKafkaByPid } from './kafka';
import { PostgresHandle, startPostgres, stopPostgresByPid } from './postgres';
import { REPO_ROOT, cmdline, isAlive, log } from './util';

export interface InfraState {
  kafka?: KafkaHandle;
  postgres?: PostgresHandle;
  /** set while a setup is running or done, so a second call in the same process reuses it */
  ready?: Promise<void>;
  exitHook?: () => void;
  savedEnv?: { DATABASE_URL?: string; KAFKA_BROKERS?: string };
}

interface StateFile {
  /** pid of the jest process that owns these servers */
  owner: number;
  kafka?: { pid: number; dataDir: string };
  postgres?: { pid?: number; dir: string };
}

/** One file per jest process, so parallel runs in the same checkout leave each other alone. */
const STATE_DIR = join(REPO_ROOT, '.chatfn', 'test-infra');
const stateFile = (owner: number) => join(STATE_DIR, `${owner}.json`);

declare global {
  var __CHATFN_INFRA__: InfraState | undefined;
}

export function infraState(): InfraState {
  return (globalThis.__CHATFN_INFRA__ ??= {});
}

/** Records this process's servers on disk (removes the file when there are none). */
export function writeStateFile(s: InfraState): void {
  const file: StateFile = { owner: process.pid };
  if (s.kafka?.pid && s.kafka.dataDir) file.kafka = { pid: s.kafka.pid, dataDir: s.kafka.dataDir };
  if (s.postgres?.dir) file.postgres = { pid: s.postgres.pid, dir: s.postgres.dir };
  if (!file.kafka && !file.postgres) {
    rmSync(stateFile(process.pid), { force: true });
    return;
  }
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(stateFile(process.pid), JSON.stringify(file, null, 2));
}

async function stopRecorded(file: StateFile): Promise<void> {
  const jobs: Promise<void>[] = [];
  if (file.kafka) {
    const { pid, dataDir } = file.kafka;
    if (isAlive(pid) && cmdline(pid).includes(dataDir)) log(`stopping Kafka pid ${pid} left by jest pid ${file.owner}`);
    jobs.push(stopKafkaByPid(pid, dataDir));
  }
  if (file.postgres) {
    const { pid, dir } = file.postgres;
    if (pid && isAlive(pid) && cmdline(pid).includes(dir)) log(`stopping Postgres pid ${pid} left by jest pid ${file.owner}`);
    jobs.push(stopPostgresByPid(pid, dir));
  }
  await Promise.allSettled(jobs);
  rmSync(stateFile(file.owner), { force: true });
}

/**
 * Stops servers recorded by jest processes of this checkout that are gone (killed before their teardown), and
 * with `includeSelf`, the ones recorded by this process. Only signals processes whose command line names their
 * recorded dir (pids get reused).
 */
export async function reapStale(includeSelf = false): Promise<void> {
  let names: string[] = [];
  try {
    names = readdirSync(STATE_DIR).filter((n) => n.endsWith('.json'));
  } catch {
    return;
  }
  const jobs: Promise<void>[] = [];
  for (const name of names) {
    let file: StateFile;
    try {
      file = JSON.parse(readFileSync(join(STATE_DIR, name), 'utf8')) as StateFile;
    } catch {
      continue;
    }
    const mine = file.owner === process.pid;
    if ((mine && includeSelf) || (!mine && !isAlive(file.owner))) jobs.push(stopRecorded(file));
  }
  await Promise.allSettled(jobs);
}

/** Synchronous last resort on process exit: signal by PID what is still running (no waiting possible here). */
function killOnExit(): void {
  const s = globalThis.__CHATFN_INFRA__;
  if (!s) return;
  const k = s.kafka;
  if (k?.pid && k.dataDir && isAlive(k.pid) && cmdline(k.pid).includes(k.dataDir)) {
    try {
      process.kill(k.pid, 'SIGTERM');
    } catch {}
  }
  const p = s.postgres;
  if (p?.pid && p.dir && isAlive(p.pid) && cmdline(p.pid).includes(p.dir)) {
    try {
      process.kill(p.pid, 'SIGINT');
    } catch {}
  }
}

async function setup(s: InfraState): Promise<void> {
  const t0 = Date.now();
  await reapStale();
  if (!s.exitHook) {
    s.exitHook = killOnExit;
    process.on('exit', killOnExit);
  }

  const [pg, kafka] = await Promise.allSettled([startPostgres(), startKafka()]);
  if (pg.status === 'fulfilled') s.postgres = pg.value;
  if (kafka.status === 'fulfilled') s.kafka = kafka.value;
  writeStateFile(s);

  if (pg.status === 'rejected' || kafka.status === 'rejected') {
    // jest does not run globalTeardown when globalSetup throws: stop what did start before failing
    await Promise.allSettled([s.postgres?.stop(), s.kafka?.stop()]);
    s.postgres = s.kafka = undefined;
    writeStateFile(s);
    const errors = [pg, kafka]
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => (r.reason instanceof Error ? r.reason.message : String(r.reason)));
    throw new Error(`test infrastructure failed to start:\n${errors.join('\n\n')}`);
  }

  // teardown puts these back, so a second run in the same process (jest --watch) does not reuse stopped servers
  s.savedEnv = { DATABASE_URL: process.env.DATABASE_URL, KAFKA_BROKERS: process.env.KAFKA_BROKERS };
  process.env.DATABASE_URL = pg.value.url;
  process.env.KAFKA_BROKERS = kafka.value.brokers;
  log(`infra ready in ${Date.now() - t0} ms: DATABASE_URL=${pg.value.url} KAFKA_BROKERS=${kafka.value.brokers}`);
}

export default async function globalSetup(): Promise<void> {
  const s = infraState();
  if (!s.ready) {
    s.ready = setup(s);
    s.ready.catch(() => {
      s.ready = undefined;
    });
  }
  await s.ready;
}
