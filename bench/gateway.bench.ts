/**
 * `npm run bench:gateway` — the real-time gateway: fan-out latency (p50/p99, sender's SEND → each subscriber's
 * MESSAGE) with BENCH_CLIENTS (1,000) connected STOMP clients while BENCH_RATE (200) messages/s are sent through the
 * gateway into BENCH_CHANNELS public channels (each client subscribed to one channel's messages topic), plus
 * connections per process (connect time) and server heap per connection. The server is the all-in-one service
 * (embedded PostgreSQL unless DATABASE_URL is set, in-process bus); the clients are plain `ws` STOMP clients in a
 * worker thread, so the main isolate's heap is the server's. Prints a table and writes bench-results/gateway.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';

const REPO_ROOT = resolve(__dirname, '../..');
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

interface WorkerInput {
  url: string;
  apiKey: string;
  channelIds: number[];
  clients: number;
  rate: number;
  seconds: number;
}
type WorkerMessage =
  | { phase: 'connected'; connectMs: number; connected: number; failed: number }
  | { phase: 'done'; latencies: number[]; sent: number; expected: number; errors: number };

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2);
};
const now = () => performance.timeOrigin + performance.now();

// ---- worker: the clients ---------------------------------------------------------------------------------------------

function frame(command: string, headers: Record<string, string>, body = ''): string {
  return `${command}\n${Object.entries(headers).map(([k, v]) => `${k}:${v}`).join('\n')}\n\n${body}\0`;
}

function parse(text: string): { command: string; headers: Record<string, string>; body: string } | undefined {
  if (text === '\n' || text === '\r\n') return undefined;
  const end = text.indexOf('\n\n');
  const [command, ...lines] = text.slice(0, end).split('\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i)] = l.slice(i + 1);
  }
  return { command, headers, body: text.slice(end + 2, text.endsWith('\0') ? -1 : undefined) };
}

class BenchClient {
  ws!: WebSocket;
  onMessage?: (body: string) => void;
  errors = 0;
  private receipts = new Map<string, () => void>();
  private n = 0;

  async connect(url: string, apiKey: string, username: string): Promise<void> {
    this.ws = new WebSocket(`${url.replace('http', 'ws')}/rtm/websocket?api-key=${apiKey}`, ['v12.stomp'], { perMessageDeflate: false });
    await new Promise<void>((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('error', rej);
    });
    const connected = new Promise<void>((res, rej) => {
      this.ws.on('message', (data) => {
        const f = parse(data.toString());
        if (!f) return;
        if (f.command === 'CONNECTED') res();
        else if (f.command === 'ERROR') rej(new Error(f.body));
        else if (f.command === 'RECEIPT') this.receipts.get(f.headers['receipt-id'])?.();
        else if (f.command === 'MESSAGE') {
          if (f.headers.destination === '/user/queue/errors') this.errors++;
          else this.onMessage?.(f.body);
        }
      });
    });
    this.ws.send(frame('CONNECT', { 'accept-version': '1.2', 'heart-beat': '0,0', 'StompX-User': username, 'StompX-User-Agent': 'chatfn-bench' }));
    await connected;
    this.ws.send(frame('SUBSCRIBE', { id: 'errors', destination: '/user/queue/errors' }));
  }

  subscribe(destination: string): Promise<void> {
    const receipt = `r-${++this.n}`;
    const done = new Promise<void>((r) => this.receipts.set(receipt, r));
    this.ws.send(frame('SUBSCRIBE', { id: `s-${this.n}`, receipt, destination }));
    return done;
  }

  send(destination: string, body: unknown): void {
    const text = JSON.stringify(body);
    this.ws.send(frame('SEND', { destination, 'content-type': 'application/json;charset=UTF-8', 'content-length': String(Buffer.byteLength(text)) }, text));
  }
}

async function runClients(input: WorkerInput): Promise<void> {
  const port = parentPort!;
  const clients: BenchClient[] = [];
  const latencies: number[] = [];
  const t0 = now();
  let failed = 0;
  for (let i = 0; i < input.clients; i += 50) {
    const batch = Array.from({ length: Math.min(50, input.clients - i) }, async (_, j) => {
      const c = new BenchClient();
      const idx = i + j;
      try {
        await c.connect(input.url, input.apiKey, `bench-user-${idx}`);
        await c.subscribe(`/topic/channels/${input.channelIds[idx % input.channelIds.length]}/messages`);
        c.onMessage = (body) => {
          const m = /"body":"t=(\d+(?:\.\d+)?)"/.exec(body);
          if (m) latencies.push(now() - Number(m[1]));
        };
        clients.push(c);
      } catch {
        failed++;
      }
    });
    await Promise.all(batch);
  }
  port.postMessage({ phase: 'connected', connectMs: now() - t0, connected: clients.length, failed } satisfies WorkerMessage);
  await new Promise((r) => port.once('message', r));

  // One sender per channel (the first client subscribed to it) sends through the gateway: the real path.
  const senders = input.channelIds.map((id, k) => ({ id, client: clients[k % clients.length] }));
  const perTick = input.rate / 100;
  let sent = 0;
  let credit = 0;
  const total = input.rate * input.seconds;
  await new Promise<void>((res) => {
    const timer = setInterval(() => {
      credit += perTick;
      while (credit >= 1 && sent < total) {
        credit -= 1;
        const s = senders[sent % senders.length];
        s.client.send(`/application/channels/${s.id}.message`, { type: 'TEXT', body: `t=${now().toFixed(3)}` });
        sent++;
      }
      if (sent >= total) {
        clearInterval(timer);
        res();
      }
    }, 10);
  });
  const perChannel = input.clients / input.channelIds.length;
  const expected = Math.round(sent * perChannel);
  const deadline = Date.now() + 30_000;
  while (latencies.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const errors = clients.reduce((n, c) => n + c.errors, 0);
  port.postMessage({ phase: 'done', latencies, sent, expected, errors } satisfies WorkerMessage);
  for (const c of clients) c.ws.terminate();
}

// ---- main: the server -------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { loadConfig } = require('@chatfn/config') as typeof import('@chatfn/config');
  const { startService } = require('@chatfn/platform') as typeof import('@chatfn/platform');
  const { CHATFN_ALL_IN_ONE } = require('../apps/chatfn/chatfn.service') as typeof import('../apps/chatfn/chatfn.service');
  const { ApplicationsService } = require('../apps/chat/src/applications/applications.service') as typeof import('../apps/chat/src/applications/applications.service');
  const { ChannelsService } = require('../apps/chat/src/channels/channels.service') as typeof import('../apps/chat/src/channels/channels.service');
  const { GatewayServer } = require('../apps/chat/src/gateway/gateway.server') as typeof import('../apps/chat/src/gateway/gateway.server');
  const { benchDatabase } = require('./bench-postgres') as typeof import('./bench-postgres');
  const { freePortForBench } = require('./bench-port') as typeof import('./bench-port');

  const db = await benchDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'chatfn-bench-gw-'));
  const port = await freePortForBench();
  const svc = await startService(
    { ...CHATFN_ALL_IN_ONE, afterStart: undefined, embeddedDatabase: false },
    loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      CHATFN_DATA_DIR: dir,
      LOG_LEVEL: 'error',
      CHATFN_INSTANCE_ID: `bench-${randomBytes(3).toString('hex')}`,
      CHATFN_GATEWAY_RATE: '1000',
    }),
  );
  const apps = svc.app.get(ApplicationsService, { strict: false });
  const created = await apps.create('bench');
  await apps.updateSettings(created.id, { guest_users: 'ENABLED', user_created_channels: 'ENABLED' });
  const channels = svc.app.get(ChannelsService, { strict: false });
  const channelIds: number[] = [];
  for (let i = 0; i < CHANNELS; i++) channelIds.push((await channels.create(created.id, { type: 'PUBLIC', name: `bench-${i}` } as never, 0)).id);
  const gateway = svc.app.get(GatewayServer, { strict: false });

  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const worker = new Worker(__filename, {
    workerData: { url: svc.url, apiKey: created.api_key, channelIds, clients: CLIENTS, rate: RATE, seconds: SECONDS } satisfies WorkerInput,
  });
  const next = () => new Promise<WorkerMessage>((r) => worker.once('message', r));
  const connected = (await next()) as Extract<WorkerMessage, { phase: 'connected' }>;
  gc?.();
  const after = process.memoryUsage();
  const connections = gateway.size;
  worker.postMessage('go');
  const done = (await next()) as Extract<WorkerMessage, { phase: 'done' }>;
  await worker.terminate();

  const perConn = (a: number, b: number) => Math.round((b - a) / Math.max(1, connections));
  const rows = [
    { measure: 'connections held by one process', value: connections, unit: 'connections', note: `${connected.failed} failed` },
    { measure: 'connect + CONNECT (session) + SUBSCRIBE, all clients', value: Math.round(connected.connectMs), unit: 'ms', note: `${Math.round((connected.connected / connected.connectMs) * 1000)} sessions/s` },
    { measure: 'server heap per connection', value: perConn(before.heapUsed, after.heapUsed), unit: 'bytes', note: gc ? 'after gc' : 'run with --expose-gc for stable numbers' },
    { measure: 'server RSS per connection (incl. client worker)', value: perConn(before.rss, after.rss), unit: 'bytes', note: 'upper bound' },
    { measure: `fan-out latency p50 (${RATE} msg/s, ${CHANNELS} channels)`, value: pct(done.latencies, 50), unit: 'ms', note: `${done.latencies.length}/${done.expected} deliveries` },
    { measure: `fan-out latency p99 (${RATE} msg/s, ${CHANNELS} channels)`, value: pct(done.latencies, 99), unit: 'ms', note: `${done.sent} messages sent` },
    { measure: 'fan-out latency max', value: pct(done.latencies, 100), unit: 'ms', note: `${done.errors} error frames` },
  ];
  console.table(rows);
  const out = join(REPO_ROOT, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'gateway.json'),
    JSON.stringify(
      { at: new Date().toISOString(), node: process.version, cpus: cpus().length, loadavg: loadavg(), clients: CLIENTS, rate: RATE, channels: CHANNELS, seconds: SECONDS, rows },
      null,
      2,
    ),
  );
  await svc.close();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  runClients(workerData as WorkerInput).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
