/**
 * `npm run bench:api` — the Platform API's hot path, `POST /v1/channels/{id}/messages` on behalf of a user in a
 * 3-member PUBLIC channel (so each message also stores 2 notifications and records 3 chat events), measured through
 * HTTP with raw keep-alive connections (`http.Agent` + `http.request`, not the SDK: this measures the server), beside
 * a baseline of the same server answering a no-op route (`GET /health/live`) in the same run.
 *
 * Two setups: the embedded default (all-in-one, in-process bus) and the same with Kafka (KAFKA_BROKERS when set,
 * otherwise a broker started with scripts/infra/kafka-start.sh and stopped at the end). PostgreSQL: DATABASE_URL
 * when set, otherwise a throw-away embedded PostgreSQL (bench/bench-postgres.ts). No functions are deployed.
 *
 * Knobs: BENCH_N (messages per measured run, default 5000), BENCH_CONCURRENCY (default 16), BENCH_ONLY=embedded|kafka.
 * Prints a table and writes bench-results/api.json.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { RunningService } from '@chatfn/platform';
import { cpuByProcess, cpuSince, isPostgres } from './bench-cpu';
import { benchBroker, BenchBroker } from './bench-kafka';
import { freePortForBench } from './bench-port';

/** dist/bench/api.bench.js when built; bench/api.bench.ts when run from source. */
const REPO_ROOT = resolve(__dirname, __dirname.split('/').includes('dist') ? '../..' : '..');
const N = Number(process.env.BENCH_N ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ONLY = process.env.BENCH_ONLY;
const CHANNELS = 8;
/** Targets of issue 3 (embedded default, no functions, this 2-core machine). */
const TARGET = { msgsPerSec: 1500, p99Ms: 15 };

interface Row {
  setup: string;
  measure: string;
  n: number;
  concurrency: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** PostgreSQL queries the server sent per request (all of them: the request's own, the outbox relay's, ...). */
  dbQueriesPerReq: number;
  /** Busy time of the server's event loop per request (ms): its CPU cost, inflated when the machine is loaded. */
  serverLoopMsPerReq: number;
  /**
   * CPU time per request (ms, user + system), which load on the machine does not inflate: of this process (the
   * server's threads and the load worker's HTTP client), and of every PostgreSQL process.
   */
  nodeCpuMsPerReq: number;
  pgCpuMsPerReq: number;
  meetsTarget?: boolean;
}

interface Response {
  status: number;
  body: string;
}

/** One HTTP client with `connections` keep-alive sockets. */
class Client {
  private readonly agent: Agent;
  constructor(
    private readonly port: number,
    connections: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolveCall, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: {
            ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolveCall({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  async json<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const r = await this.call(method, path, body, headers);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
    return (r.body ? JSON.parse(r.body) : undefined) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `total` calls of `op(i)` with `concurrency` in flight; returns throughput and latency percentiles. */
type LoadResult = Pick<Row, 'n' | 'concurrency' | 'perSec' | 'p50Ms' | 'p99Ms' | 'meanMs'>;

async function load(total: number, concurrency: number, op: (i: number) => Promise<void>): Promise<LoadResult> {
  const lat = new Float64Array(total);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const s = performance.now();
        await op(i);
        lat[i] = performance.now() - s;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const sorted = Array.from(lat).sort((a, b) => a - b);
  const q = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
  return {
    n: total,
    concurrency,
    perSec: Math.round(total / secs),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

const round = (v: number) => Math.round(v * 100) / 100;

async function benchSetup(setup: string, databaseUrl: string, kafkaBrokers?: string[]): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'chatfn-bench-api-'));
  chmodSync(dir, 0o755);
  const port = await freePortForBench();
  const adminToken = randomBytes(24).toString('hex');
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    CHATFN_DATA_DIR: dir,
    CHATFN_ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'error',
    CHATFN_INSTANCE_ID: `bench-api-${randomBytes(3).toString('hex')}`,
  };
  if (kafkaBrokers) env.KAFKA_BROKERS = kafkaBrokers.join(',');
  let svc: RunningService | undefined;
  const client = new Client(port, CONCURRENCY);
  try {
    // Loaded here, not at the top: the load workers run this file too and need none of it.
    const [{ loadConfig }, { startService }, { CHATFN_ALL_IN_ONE }] = await Promise.all([
      import('@chatfn/config'),
      import('@chatfn/platform'),
      import('../apps/chatfn/chatfn.service'),
    ]);
    svc = await startService({ ...CHATFN_ALL_IN_ONE, afterStart: undefined }, loadConfig(env));
    const app = await client.json('POST', '/admin/applications', { name: `bench-${randomBytes(3).toString('hex')}` }, { authorization: `Bearer ${adminToken}` });
    const basic = Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64');
    const tokenRes = await client.call('POST', '/oauth/token', 'grant_type=client_credentials', {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    });
    const auth = { authorization: `Bearer ${(JSON.parse(tokenRes.body) as { access_token: string }).access_token}` };
    for (const name of ['a', 'b', 'c']) await client.json('POST', '/v1/users', { name, display_name: name.toUpperCase(), is_guest: false }, auth);
    const channels: number[] = [];
    for (let i = 0; i < CHANNELS; i++) {
      const c = await client.json('POST', '/v1/channels', { type: 'PUBLIC', name: `bench${i}`, members: [{ username: 'a' }, { username: 'b' }, { username: 'c' }] }, auth);
      channels.push(c.id);
    }
    const run = (kind: LoadSpec['kind'], total: number, concurrency: number) => measured({ kind, total, concurrency, port, channels, auth });
    // Warm up both routes (JIT, prepared statements, pool), then measure baseline and send back to back.
    await run('noop', Math.min(2000, N), CONCURRENCY);
    await run('send', Math.min(1000, N), CONCURRENCY);
    const rows: Row[] = [];
    rows.push({ setup, measure: 'baseline GET /health/live', ...(await run('noop', N, CONCURRENCY)) });
    const hot = await run('send', N, CONCURRENCY);
    rows.push({ setup, measure: 'send message', ...hot, meetsTarget: hot.perSec >= TARGET.msgsPerSec && hot.p99Ms <= TARGET.p99Ms });
    const one = Math.max(200, Math.floor(N / 5));
    rows.push({ setup, measure: 'baseline GET /health/live', ...(await run('noop', one, 1)) });
    rows.push({ setup, measure: 'send message', ...(await run('send', one, 1)) });
    return rows;
  } finally {
    client.close();
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one load in a worker thread (it does not share the server's event loop) and measures the server around it. */
async function measured(spec: LoadSpec): Promise<LoadResult & Pick<Row, 'dbQueriesPerReq' | 'serverLoopMsPerReq' | 'nodeCpuMsPerReq' | 'pgCpuMsPerReq'>> {
  const q0 = queries.count;
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const pg0 = postgresCpuMs();
  const r = await inWorker(spec);
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  return {
    ...r,
    dbQueriesPerReq: round((queries.count - q0) / spec.total),
    serverLoopMsPerReq: round(elu.active / spec.total),
    nodeCpuMsPerReq: round((cpu.user + cpu.system) / 1000 / spec.total),
    pgCpuMsPerReq: round(cpuSince(pg0, postgresCpuMs()) / spec.total),
  };
}

/**
 * The floor (bench/api-floor.ts): a bare node:http server storing the same rows per message with one statement per
 * batch, in the same database, measured the same way. chatfn cannot be faster than this on this machine.
 */
async function floorRows(databaseUrl: string): Promise<Row[]> {
  const { startFloorServer } = await import('./api-floor');
  const floor = await startFloorServer(databaseUrl);
  const setup = 'floor: bare node:http + one statement per batch';
  try {
    const spec = { port: floor.port, channels: Array.from({ length: CHANNELS }, (_, i) => i + 1), auth: {} };
    await measured({ ...spec, kind: 'floor', total: Math.min(1000, N), concurrency: CONCURRENCY });
    const hot = await measured({ ...spec, kind: 'floor', total: N, concurrency: CONCURRENCY });
    const rows: Row[] = [{ setup, measure: 'send message (same rows stored)', ...hot, meetsTarget: hot.perSec >= TARGET.msgsPerSec && hot.p99Ms <= TARGET.p99Ms }];
    const one = Math.max(200, Math.floor(N / 5));
    rows.push({ setup, measure: 'send message (same rows stored)', ...(await measured({ ...spec, kind: 'floor', total: one, concurrency: 1 })) });
    const sent = Math.min(1000, N) + N + one;
    const c = await floor.counts();
    if (c.messages !== sent || c.notifications !== 2 * sent || c.events !== 3 * sent) {
      throw new Error(`the floor stored ${JSON.stringify(c)} for ${sent} messages`);
    }
    return rows;
  } finally {
    await floor.close();
  }
}

/** CPU time (ms) used so far by each running PostgreSQL process of the machine, by pid. */
const postgresCpuMs = () => cpuByProcess(isPostgres);

/** Counts the queries of every `pg` client of this process (the server's pool, the outbox relay, ...). */
const queries = { count: 0 };
function countQueries(): void {
  const pg = require('pg') as { Client: { prototype: { query: (...a: unknown[]) => unknown } } };
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    queries.count++;
    return original.apply(this, args);
  };
}

interface LoadSpec {
  kind: 'noop' | 'send' | 'floor';
  total: number;
  concurrency: number;
  port: number;
  channels: number[];
  auth: Record<string, string>;
}

function inWorker(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolveRun, reject) => {
    const w = new Worker(__filename, { workerData: spec });
    w.once('message', resolveRun);
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

/** Worker side: the HTTP client generating the load. */
async function workerMain(spec: LoadSpec): Promise<void> {
  const client = new Client(spec.port, spec.concurrency);
  const noop = async () => {
    const r = await client.call('GET', '/health/live');
    if (r.status !== 200) throw new Error(`GET /health/live: ${r.status}`);
  };
  const send = async (i: number) => {
    const channel = spec.channels[i % spec.channels.length];
    const r = await client.call('POST', `/v1/channels/${channel}/messages`, { type: 'TEXT', body: `hello ${i}`, user: { username: 'a' } }, spec.auth);
    if (r.status !== 201) throw new Error(`send: ${r.status} ${r.body}`);
  };
  // The floor server (bench/api-floor.ts): the same request body, no auth.
  const floor = async (i: number) => {
    const channel = spec.channels[i % spec.channels.length];
    const r = await client.call('POST', `/floor/${channel}`, { type: 'TEXT', body: `hello ${i}`, user: { username: 'a' } });
    if (r.status !== 201) throw new Error(`floor send: ${r.status} ${r.body}`);
  };
  const result = await load(spec.total, spec.concurrency, spec.kind === 'noop' ? noop : spec.kind === 'floor' ? floor : send);
  client.close();
  parentPort!.postMessage(result);
}

async function main(): Promise<void> {
  countQueries();
  const { benchDatabase } = await import('./bench-postgres');
  const db = await benchDatabase();
  const rows: Row[] = [];
  let broker: BenchBroker | undefined;
  try {
    if (ONLY !== 'kafka') {
      rows.push(...(await benchSetup('embedded (in-process bus)', db.url)));
      // After the embedded setup: its migrations made the tables the floor copies.
      rows.push(...(await floorRows(db.url)));
    }
    if (ONLY !== 'embedded') {
      broker = await benchBroker();
      rows.push(...(await benchSetup('Kafka', db.url, broker.brokers)));
    }
  } finally {
    await broker?.stop();
    await db.stop();
  }
  console.table(rows);
  const dir = join(REPO_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const report = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageAtEnd: loadavg() },
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL started by the bench',
    broker: ONLY === 'embedded' ? 'none' : broker?.started ? 'started by the bench (scripts/infra/kafka-start.sh)' : 'KAFKA_BROKERS',
    method:
      `POST /v1/channels/{id}/messages (TEXT, on behalf of a member; ${CHANNELS} PUBLIC channels of 3 members, so 2 ` +
      `notifications and 3 chat events per message) over ${CONCURRENCY} keep-alive HTTP connections (node http.Agent), ` +
      `after warm-up; baseline GET /health/live on the same server in the same run; then both with 1 in flight. ` +
      'The benchmark client runs in the server process and shares its CPU.',
    target: TARGET,
    rows,
  };
  writeFileSync(join(dir, 'api.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${join(dir, 'api.json')}`);
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  void workerMain(workerData as LoadSpec);
}
