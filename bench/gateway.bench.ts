/**
 * `npm run bench:gateway` — the real-time gateway, the server in this process, the clients (plain `ws` STOMP clients)
 * in a child process so that this process's heap and RSS are the server's alone:
 *
 * 1. Idle connections (after the fan-out run of the first bus): BENCH_IDLE (5,000) clients connect (WebSocket + CONNECT, i.e. a guest user session each) and
 *    subscribe one channel topic; server heap and RSS per connection after GC; the connections are held for
 *    BENCH_IDLE_HOLD_S (12 s, more than one server heart-beat) and then every one must still answer a relay request.
 *    Then they all disconnect and reconnect (a reconnect storm: existing users, a new session each).
 * 2. Fan-out, on the embedded (in-process) bus and on Kafka: BENCH_CLIENTS (1,000) clients, each subscribed to one
 *    of BENCH_CHANNELS (100) public channels' messages topic; BENCH_RATE (200) messages/s for BENCH_SECONDS (30) are
 *    sent through the gateway (SEND /application/channels/:id.message, one sender per channel), after BENCH_WARMUP_S (10)
 *    seconds of the same load that are not measured (steady state). Latency is split at
 *    the commit: the write path is the sender's SEND → `MessagesService.send` resolved (the message committed; timed
 *    in the server), fan-out is committed → each subscriber's MESSAGE (outbox → bus → live consumer → sockets).
 *
 * Before each fan-out the bench waits for PostgreSQL to be quiet; with a broker the bench started itself, the warm-up
 * is BENCH_COLD_BROKER_WARMUP_S (30) instead. CPU shares and event-loop delay cover the measured seconds only, GC
 * pauses the deliveries' span.
 *
 * BENCH_BUSES (`embedded,kafka`) picks the runs; Kafka is KAFKA_BROKERS or a broker started with
 * scripts/infra/kafka-start.sh. PostgreSQL is DATABASE_URL or an embedded one. Prints tables with the load average
 * and writes bench-results/gateway.json.
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { cpuByProcess, cpuSince, isJava, isPostgres } from './bench-cpu';
import { benchBroker, BenchBroker } from './bench-kafka';

const REPO_ROOT = resolve(__dirname, '../..');
const IDLE = Number(process.env.BENCH_IDLE ?? 5000);
const IDLE_HOLD_S = Number(process.env.BENCH_IDLE_HOLD_S ?? 12);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 100);
/**
 * Measured seconds. 30, not 10: at 200 messages/s a 10 s window holds 2,000 messages, its p99 is the 20th slowest, and
 * whether one full GC of the server (one every ~15 s at this load) fell into it decided the figure (Kafka p99 16-39 ms
 * without one, 53-83 ms with). 30 s samples them at their rate.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
/** Seconds of the same load before the measured ones (steady state: compilers done, broker warm). */
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 10);
/**
 * The warm-up with a broker this bench started: a JVM fresh from start-up compiles the produce and fetch paths while
 * they run, and after 10 s of this load it still took half a core in the measured seconds (a long-running broker,
 * 17-21%). 30 s of it is what a broker in service has long had.
 */
const COLD_BROKER_WARMUP_S = Number(process.env.BENCH_COLD_BROKER_WARMUP_S ?? 30);
const BUSES = (process.env.BENCH_BUSES ?? 'embedded,kafka').split(',').map((s) => s.trim()).filter(Boolean);

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(1);
};
const now = () => performance.timeOrigin + performance.now();
const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');

// ---- a quiet machine before measuring ---------------------------------------------------------------------------------

/**
 * Waits (at most 30 s) until PostgreSQL is quiet: the previous phase (5,000 sessions ended at once) leaves work behind
 * (autovacuum, session endings) that would otherwise land in the measured seconds. No ANALYZE here: statistics taken
 * while a table is nearly empty make the cached generic plans of the send statements scan the whole table as it
 * grows during the run (the last-message lookup read all of `messages` on every send: PostgreSQL at 60-68% of a core
 * instead of 33-40%), which autovacuum's next ANALYZE would undo in service.
 */
async function settle(): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const before = cpuByProcess(isPostgres);
    await new Promise((r) => setTimeout(r, 1000));
    if (cpuSince(before, cpuByProcess(isPostgres)) < 100) return; // < 10% of a core
  }
}

// ---- the server's GC pauses ----------------------------------------------------------------------------------------

interface GcPause {
  at: number;
  ms: number;
  major: boolean;
}

/** Records this process's GC pauses (wall clock, as `now()`) until `stop`. */
function gcPauses(): { stop(): void; within(from: number, to: number): GcPause[] } {
  const pauses: GcPause[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      pauses.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return { stop: () => obs.disconnect(), within: (from, to) => pauses.filter((p) => p.at + p.ms >= from && p.at <= to) };
}

/** From the first send to the last receipt of the deliveries `[id, sent at, received at]` (no spread: 60,000 of them). */
function span(deliveries: [number, number, number][]): [number, number] {
  let from = Infinity;
  let to = -Infinity;
  for (const [, sentAt, receivedAt] of deliveries) {
    if (sentAt < from) from = sentAt;
    if (receivedAt > to) to = receivedAt;
  }
  return [from, to];
}

function gcRow(bus: string, pauses: GcPause[]): Row {
  const minor = pauses.filter((p) => !p.major);
  const major = pauses.filter((p) => p.major);
  const sum = (xs: GcPause[]) => xs.reduce((a, p) => a + p.ms, 0);
  const max = (xs: GcPause[]) => xs.reduce((a, p) => Math.max(a, p.ms), 0);
  return {
    bus,
    measure: 'server GC pauses in the measured seconds (total)',
    value: +sum(pauses).toFixed(0),
    unit: 'ms',
    note: `${minor.length} minor (max ${max(minor).toFixed(1)} ms), ${major.length} full (max ${max(major).toFixed(1)} ms)`,
  };
}

// ---- the client process ----------------------------------------------------------------------------------------------

type Command =
  | { cmd: 'connect'; url: string; apiKey: string; n: number; channelIds: number[]; prefix: string }
  | { cmd: 'probe' }
  | { cmd: 'fanout'; rate: number; seconds: number; warmupSeconds: number; channelIds: number[] }
  | { cmd: 'raw'; url: string; n: number }
  | { cmd: 'rawCollect'; expected: number }
  | { cmd: 'closeAll' };
type Reply =
  | { cmd: 'connect'; connected: number; failed: number; ms: number; firstError?: string }
  | { cmd: 'probe'; answered: number; heartbeats: number; held: number; ms: number }
  | { cmd: 'fanout'; deliveries: [number, number, number][]; sent: number; expected: number; errors: number; warmupMs: number }
  | { cmd: 'raw'; connected: number }
  | { cmd: 'rawCollect'; latencies: number[] }
  | { cmd: 'closeAll' };

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
  errors = 0;
  heartbeats = 0;
  onMessage?: (destination: string, body: string) => void;
  private readonly waiting = new Map<string, () => void>();
  private n = 0;

  async connect(url: string, apiKey: string, username: string): Promise<void> {
    this.ws = new WebSocket(`${url.replace('http', 'ws')}/rtm/websocket?api-key=${apiKey}`, ['v12.stomp'], { perMessageDeflate: false });
    await new Promise<void>((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('error', rej);
    });
    const connected = new Promise<void>((res, rej) => {
      this.ws.once('close', () => rej(new Error('closed before CONNECTED')));
      this.ws.on('message', (data) => {
        const text = data.toString();
        if (text === '\n') {
          this.heartbeats++;
          return;
        }
        const f = parse(text);
        if (!f) return;
        if (f.command === 'CONNECTED') res();
        else if (f.command === 'ERROR') rej(new Error(f.body));
        else if (f.command === 'RECEIPT') this.settle(f.headers['receipt-id']);
        else if (f.command === 'MESSAGE') {
          if (f.headers.destination.startsWith('/user/queue/')) this.errors++;
          else if (f.headers.destination.startsWith('/application/')) this.settle(f.headers.subscription);
          else this.onMessage?.(f.headers.destination, f.body);
        }
      });
    });
    // The client promises a heart-beat at least every 60 s (the gateway allows 3×), so an idle one stays connected.
    this.ws.send(frame('CONNECT', { 'accept-version': '1.2', 'heart-beat': '60000,10000', 'StompX-User': username, 'StompX-User-Agent': 'chatfn-bench' }));
    await connected;
    this.ws.send(frame('SUBSCRIBE', { id: 'errors', destination: '/user/queue/errors' }));
  }

  private settle(id: string): void {
    const done = this.waiting.get(id);
    this.waiting.delete(id);
    done?.();
  }

  subscribe(destination: string): Promise<void> {
    const receipt = `r-${++this.n}`;
    const done = new Promise<void>((r) => this.waiting.set(receipt, r));
    this.ws.send(frame('SUBSCRIBE', { id: `s-${this.n}`, receipt, destination }));
    return done;
  }

  /** A one-shot relay (the smallest request that needs the session): resolves with its MESSAGE. */
  relay(destination: string): Promise<void> {
    const id = `q-${++this.n}`;
    const done = new Promise<void>((r) => this.waiting.set(id, r));
    this.ws.send(frame('SUBSCRIBE', { id, destination }));
    return done;
  }

  send(destination: string, body: unknown): void {
    const text = JSON.stringify(body);
    this.ws.send(frame('SEND', { destination, 'content-type': 'application/json;charset=UTF-8', 'content-length': String(Buffer.byteLength(text)) }, text));
  }
}

async function clientProcess(): Promise<void> {
  let clients: BenchClient[] = [];
  let url = '';
  let rawSockets: WebSocket[] = [];
  let rawLatencies: number[] = [];
  const reply = (r: Reply) => process.send!(r);
  const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

  process.on('message', (c: Command) => {
    void (async () => {
      switch (c.cmd) {
        case 'connect': {
          url = c.url;
          const t0 = now();
          let failed = 0;
          let firstError: string | undefined;
          for (let i = 0; i < c.n; i += 100) {
            await Promise.all(
              Array.from({ length: Math.min(100, c.n - i) }, async (_, j) => {
                const idx = i + j;
                const client = new BenchClient();
                try {
                  await client.connect(url, c.apiKey, `${c.prefix}-${idx}`);
                  await client.subscribe(`/topic/channels/${c.channelIds[idx % c.channelIds.length]}/messages`);
                  clients.push(client);
                } catch (e) {
                  failed++;
                  firstError ??= String((e as Error).message ?? e);
                  client.ws?.terminate();
                }
              }),
            );
          }
          reply({ cmd: 'connect', connected: clients.length, failed, ms: now() - t0, firstError });
          break;
        }
        case 'probe': {
          const t0 = now();
          const held = clients.filter((k) => k.ws.readyState === WebSocket.OPEN).length;
          let answered = 0;
          for (let i = 0; i < clients.length; i += 250) {
            const results = await Promise.all(clients.slice(i, i + 250).map((k) => within(k.relay('/application/v1/user.relay'), 15_000)));
            answered += results.filter((r) => r !== 'timeout').length;
          }
          reply({ cmd: 'probe', answered, held, heartbeats: clients.filter((k) => k.heartbeats > 0).length, ms: now() - t0 });
          break;
        }
        case 'fanout': {
          // deliveries: [message id, sent at (client clock), received at]
          const deliveries: [number, number, number][] = [];
          let warm = false;
          for (const k of clients) {
            k.onMessage = (_destination, body) => {
              const t = now();
              const r = (JSON.parse(body) as { resource?: { id?: number; body?: string } }).resource;
              const m = /^t=(\d+(?:\.\d+)?)$/.exec(r?.body ?? '');
              if (!m) return;
              warm = true;
              const [id, sentAt] = [Number(r!.id), Number(m[1])];
              deliveries.push([id, sentAt, t]);
            };
          }
          // The first sender of each channel is the client subscribed to it with the lowest index.
          const senders = c.channelIds.map((id, k) => ({ id, client: clients[k % clients.length] }));
          // Warm-up: until a message goes round (with Kafka, the live consumer's group must have joined first).
          const w0 = now();
          while (!warm && now() - w0 < 60_000) {
            senders[0].client.send(`/application/channels/${senders[0].id}.message`, { type: 'TEXT', body: `warmup` });
            senders[0].client.send(`/application/channels/${senders[0].id}.message`, { type: 'TEXT', body: `t=${now().toFixed(3)}` });
            await new Promise((r) => setTimeout(r, 250));
          }
          // Then the same load, unmeasured, for BENCH_WARMUP_S: V8's and the broker JVM's compilers finish with the
          // hot paths first (on a cold broker, its JIT alone took a core for the first runs' seconds).
          const perTick = c.rate / 100;
          const drive = (seconds: number) =>
            new Promise<number>((res) => {
              let sent = 0;
              let credit = 0;
              const total = Math.round(c.rate * seconds);
              if (total === 0) return res(0);
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
                  res(sent);
                }
              }, 10);
            });
          await drive(c.warmupSeconds);
          const warmupMs = now() - w0;
          await new Promise((r) => setTimeout(r, 1000));
          deliveries.length = 0;
          process.send!({ event: 'measuring' });
          const sent = await drive(c.seconds);
          const expected = Math.round(sent * (clients.length / c.channelIds.length));
          const deadline = now() + 30_000;
          while (deliveries.length < expected && now() < deadline) await new Promise((r) => setTimeout(r, 100));
          reply({ cmd: 'fanout', deliveries, sent, expected, errors: clients.reduce((n, k) => n + k.errors, 0), warmupMs });
          break;
        }
        case 'raw': {
          // Baseline: plain WebSocket clients of a bare `ws` server (no STOMP, no gateway, no bus).
          rawLatencies = [];
          rawSockets = await Promise.all(
            Array.from({ length: c.n }, async () => {
              const ws = new WebSocket(c.url, { perMessageDeflate: false });
              ws.on('message', (data) => {
                const t = now();
                const m = /t=(\d+(?:\.\d+)?)/.exec(data.toString());
                if (m) rawLatencies.push(t - Number(m[1]));
              });
              await new Promise((r) => ws.once('open', r));
              return ws;
            }),
          );
          reply({ cmd: 'raw', connected: rawSockets.length });
          break;
        }
        case 'rawCollect': {
          const deadline = now() + 10_000;
          while (rawLatencies.length < c.expected && now() < deadline) await new Promise((r) => setTimeout(r, 50));
          for (const ws of rawSockets) ws.terminate();
          reply({ cmd: 'rawCollect', latencies: rawLatencies });
          break;
        }
        case 'closeAll':
          for (const k of clients) k.ws.terminate();
          clients = [];
          reply({ cmd: 'closeAll' });
          break;
      }
    })().catch((e) => {
      console.error(e);
      process.exit(1);
    });
  });
}

class Clients {
  private constructor(private readonly child: ChildProcess) {}

  static start(): Clients {
    return new Clients(fork(__filename, [], { env: { ...process.env, BENCH_ROLE: 'clients' }, execArgv: [], stdio: 'inherit' }));
  }

  /** Runs a command; `onMeasuring` is called when a fan-out's warm-up ends and its measured seconds begin. */
  run<C extends Command['cmd']>(c: Extract<Command, { cmd: C }>, onMeasuring?: () => void): Promise<Extract<Reply, { cmd: C }>> {
    return new Promise((res, rej) => {
      const onExit = (code: number) => rej(new Error(`client process exited (${code})`));
      const onMessage = (r: unknown) => {
        if ((r as { event?: string }).event === 'measuring') return onMeasuring?.();
        this.child.off('exit', onExit);
        this.child.off('message', onMessage);
        res(r as Extract<Reply, { cmd: C }>);
      };
      this.child.once('exit', onExit);
      this.child.on('message', onMessage);
      this.child.send(c);
    });
  }

  get pid(): string {
    return String(this.child.pid);
  }

  stop(): void {
    this.child.kill();
  }
}

// ---- the server (this process) ------------------------------------------------------------------------------------------

interface Row {
  bus: string;
  measure: string;
  value: number;
  unit: string;
  note: string;
}

async function main(): Promise<void> {
  const { loadConfig } = require('@chatfn/config') as typeof import('@chatfn/config');
  const { startService } = require('@chatfn/platform') as typeof import('@chatfn/platform');
  const { CHATFN_ALL_IN_ONE } = require('../apps/chatfn/chatfn.service') as typeof import('../apps/chatfn/chatfn.service');
  const { ApplicationsService } = require('../apps/chat/src/applications/applications.service') as typeof import('../apps/chat/src/applications/applications.service');
  const { ChannelsService } = require('../apps/chat/src/channels/channels.service') as typeof import('../apps/chat/src/channels/channels.service');
  const { MessagesService } = require('../apps/chat/src/messages/messages.service') as typeof import('../apps/chat/src/messages/messages.service');
  const { GatewayServer } = require('../apps/chat/src/gateway/gateway.server') as typeof import('../apps/chat/src/gateway/gateway.server');
  const { TopicHub } = require('../apps/chat/src/gateway/topic-hub') as typeof import('../apps/chat/src/gateway/topic-hub');
  const { OutboxRelay } = require('@chatfn/event-store') as typeof import('@chatfn/event-store');
  const { benchDatabase } = require('./bench-postgres') as typeof import('./bench-postgres');
  const { freePortForBench } = require('./bench-port') as typeof import('./bench-port');

  const gc = (globalThis as { gc?: () => void }).gc;
  const db = await benchDatabase();
  const rows: Row[] = [];
  const clients = Clients.start();
  let broker: BenchBroker | undefined;
  try {
    if (CLIENTS > 0 && RATE > 0) rows.push(...(await rawBaseline(clients, await freePortForBench())));
    for (const bus of BUSES) {
      if (bus === 'kafka') broker ??= await benchBroker();
      const dir = mkdtempSync(join(tmpdir(), 'chatfn-bench-gw-'));
      const svc = await startService(
        { ...CHATFN_ALL_IN_ONE, afterStart: undefined, embeddedDatabase: false },
        loadConfig({
          PORT: String(await freePortForBench()),
          HOST: '127.0.0.1',
          DATABASE_URL: db.url,
          CHATFN_DATA_DIR: dir,
          LOG_LEVEL: 'error',
          CHATFN_INSTANCE_ID: `bench-${randomBytes(3).toString('hex')}`,
          CHATFN_GATEWAY_RATE: '1000',
          ...(bus === 'kafka' ? { KAFKA_BROKERS: broker!.brokers.join(',') } : {}),
        }),
      );
      try {
        const apps = svc.app.get(ApplicationsService, { strict: false });
        const created = await apps.create(`bench-${bus}`);
        await apps.updateSettings(created.id, { guest_users: 'ENABLED', user_created_channels: 'ENABLED' });
        const channels = svc.app.get(ChannelsService, { strict: false });
        const channelIds: number[] = [];
        for (let i = 0; i < CHANNELS; i++) channelIds.push((await channels.create(created.id, { type: 'PUBLIC', name: `bench-${i}` } as never, 0)).id);
        const gateway = svc.app.get(GatewayServer, { strict: false });
        const base = { url: svc.url, apiKey: created.api_key, channelIds };

        if (CLIENTS > 0 && RATE > 0) {
          const committed = new Map<number, number>();
          const messages = svc.app.get(MessagesService, { strict: false });
          const send = messages.send.bind(messages);
          messages.send = async (...args: Parameters<typeof send>) => {
            const m = await send(...args);
            committed.set(Number(m.id), now());
            return m;
          };
          // When the live consumer hands a message to the hub: splits fan-out into bus and sockets.
          const atHub = new Map<number, number>();
          const hub = svc.app.get(TopicHub, { strict: false });
          const publish = hub.publish.bind(hub);
          hub.publish = (applicationId, topic, type, resource, skip) => {
            if (type === 'channel.message.created') atHub.set(Number((resource as { id: number }).id), now());
            return publish(applicationId, topic, type, resource, skip);
          };
          const c = await clients.run({ cmd: 'connect', ...base, n: CLIENTS, prefix: `fan-${bus}` });
          // The session starts' events are out of the outbox before measuring.
          await svc.app.get(OutboxRelay, { strict: false }).flush();
          const eld = monitorEventLoopDelay({ resolution: 1 });
          const gcs = gcPauses();
          // Event-loop delay and CPU over the measured seconds only (the warm-up's compilers are not in them).
          const cpuNow = () => ({ server: process.cpuUsage(), clients: cpuByProcess((c) => c === 'node'), pg: cpuByProcess(isPostgres), java: cpuByProcess(isJava) });
          let cpu0 = cpuNow();
          let measuredFrom = now();
          const warmupSeconds = bus === 'kafka' && broker?.started ? Math.max(WARMUP_S, COLD_BROKER_WARMUP_S) : WARMUP_S;
          await settle();
          const f = await clients.run({ cmd: 'fanout', rate: RATE, seconds: SECONDS, warmupSeconds, channelIds }, () => {
            eld.enable();
            cpu0 = cpuNow();
            measuredFrom = now();
          });
          const serverCpu = process.cpuUsage(cpu0.server);
          const measuredS = (now() - measuredFrom) / 1000;
          const cpuShare = (ms: number) => +(ms / measuredS / 10).toFixed(0);
          const clientsMs = cpuByProcess((c) => c === 'node').get(clients.pid)! - (cpu0.clients.get(clients.pid) ?? 0);
          const pgMs = cpuSince(cpu0.pg, cpuByProcess(isPostgres));
          const javaMs = cpuSince(cpu0.java, cpuByProcess(isJava));
          eld.disable();
          gcs.stop();
          const loadAfter = load();
          const write = new Map<number, number>();
          const fan: number[] = [];
          const e2e: number[] = [];
          const viaBus = new Map<number, number>();
          const sockets: number[] = [];
          for (const [id, sentAt, receivedAt] of f.deliveries) {
            const at = committed.get(id);
            const hubAt = atHub.get(id);
            if (at === undefined || hubAt === undefined) continue;
            write.set(id, at - sentAt);
            viaBus.set(id, hubAt - at);
            fan.push(receivedAt - at);
            sockets.push(receivedAt - hubAt);
            e2e.push(receivedAt - sentAt);
          }
          const b = [...viaBus.values()];
          const w = [...write.values()];
          const label = `${RATE} msg/s, ${c.connected} clients, ${CHANNELS} channels`;
          rows.push(
            { bus, measure: `write path p50 / p99 (SEND → committed), ${label}`, value: pct(w, 50), unit: 'ms', note: `p99 ${pct(w, 99)} ms, ${w.length} messages` },
            { bus, measure: `fan-out p50 / p99 (committed → received)`, value: pct(fan, 50), unit: 'ms', note: `p99 ${pct(fan, 99)} ms, max ${pct(fan, 100)} ms` },
            { bus, measure: `  of which outbox + bus (committed → gateway hub)`, value: pct(b, 50), unit: 'ms', note: `p99 ${pct(b, 99)} ms` },
            { bus, measure: `  of which gateway → client (hub → received)`, value: pct(sockets, 50), unit: 'ms', note: `p99 ${pct(sockets, 99)} ms` },
            { bus, measure: `end to end p50 / p99 (SEND → received)`, value: pct(e2e, 50), unit: 'ms', note: `p99 ${pct(e2e, 99)} ms, ${f.deliveries.length}/${f.expected} deliveries` },
            // The histogram holds whole sampling intervals (1 ms): what is above it is the delay.
            { bus, measure: 'server event-loop delay p50 / p99 in the measured seconds', value: +Math.max(0, eld.percentile(50) / 1e6 - 1).toFixed(1), unit: 'ms', note: `p99 ${Math.max(0, eld.percentile(99) / 1e6 - 1).toFixed(1)} ms, load ${loadAfter}` },
            gcRow(bus, gcs.within(...span(f.deliveries))),
            {
              bus,
              measure: 'server CPU in the measured seconds (% of one core)',
              value: cpuShare((serverCpu.user + serverCpu.system) / 1000),
              unit: '%',
              note: `PostgreSQL ${cpuShare(pgMs)}%, Kafka broker ${cpuShare(javaMs)}%, clients ${cpuShare(clientsMs)}%`,
            },
            { bus, measure: 'messages sent / error frames', value: f.sent, unit: 'messages', note: `${f.errors} error frames, ${c.failed} connect failures, warm-up ${Math.round(f.warmupMs)} ms` },
          );
          await clients.run({ cmd: 'closeAll' });
        }
        if (bus === BUSES[0] && IDLE > 0) {
          gc?.();
          const before = process.memoryUsage();
          const c = await clients.run({ cmd: 'connect', ...base, n: IDLE, prefix: 'idle' });
          gc?.();
          const after = process.memoryUsage();
          const held = gateway.size;
          const perConn = (a: number, b: number) => Math.round((b - a) / Math.max(1, held));
          const loadAfterConnect = load();
          await new Promise((r) => setTimeout(r, IDLE_HOLD_S * 1000));
          const p = await clients.run({ cmd: 'probe' });
          rows.push(
            { bus, measure: 'idle connections held by one process', value: held, unit: 'connections', note: `${c.failed} failed${c.firstError ? ` (${c.firstError.slice(0, 80)})` : ''}` },
            { bus, measure: 'connect + CONNECT (guest session) + SUBSCRIBE', value: Math.round(c.ms), unit: 'ms', note: `${Math.round((c.connected / c.ms) * 1000)} sessions/s, load ${loadAfterConnect}` },
            { bus, measure: 'server heap per connection', value: perConn(before.heapUsed, after.heapUsed), unit: 'bytes', note: gc ? 'after gc' : 'run with --expose-gc' },
            { bus, measure: 'server RSS per connection', value: perConn(before.rss, after.rss), unit: 'bytes', note: `heap+external ${perConn(before.heapUsed + before.external, after.heapUsed + after.external)} B` },
            { bus, measure: `still open after ${IDLE_HOLD_S} s`, value: p.held, unit: 'connections', note: `${p.heartbeats} got a server heart-beat` },
            { bus, measure: 'answered a relay request at the end', value: p.answered, unit: 'connections', note: `in ${Math.round(p.ms)} ms` },
          );
          await clients.run({ cmd: 'closeAll' });
          const t0 = Date.now();
          while (gateway.size > 0 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 200));
          // A reconnect storm: the same users again (no user to create; a new session row each).
          const r = await clients.run({ cmd: 'connect', ...base, n: IDLE, prefix: 'idle' });
          rows.push({
            bus,
            measure: 'reconnect (existing users) + CONNECT + SUBSCRIBE',
            value: Math.round(r.ms),
            unit: 'ms',
            note: `${Math.round((r.connected / r.ms) * 1000)} sessions/s, ${r.failed} failed, load ${load()}`,
          });
          await clients.run({ cmd: 'closeAll' });
          const t1 = Date.now();
          while (gateway.size > 0 && Date.now() - t1 < 60_000) await new Promise((r) => setTimeout(r, 200));
        }

      } finally {
        await svc.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    clients.stop();
    broker?.stop();
    await db.stop();
  }
  console.table(rows.map(({ bus, measure, value, unit, note }) => ({ bus, measure, value, unit, note })));
  console.log(`load average ${load()} on ${cpus().length} cores`);
  const out = join(REPO_ROOT, 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'gateway.json'),
    JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, loadavg: loadavg(), idle: IDLE, clients: CLIENTS, rate: RATE, channels: CHANNELS, seconds: SECONDS, rows }, null, 2),
  );
  process.exit(0);
}

/**
 * The floor for "gateway → client": a bare `ws` server in this process sends frames of the same size to the same
 * number of plain WebSocket clients, at the same rate and fan-out (CLIENTS / CHANNELS sockets per message).
 */
async function rawBaseline(clients: Clients, port: number): Promise<Row[]> {
  const { WebSocketServer } = require('ws') as typeof import('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => sockets.push(ws));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const c = await clients.run({ cmd: 'raw', url: `ws://127.0.0.1:${port}`, n: CLIENTS });
  while (sockets.length < c.connected) await new Promise((r) => setTimeout(r, 10));
  gc?.();
  const heapPerSocket = Math.round((process.memoryUsage().heapUsed - before) / Math.max(1, sockets.length));
  const groups = Array.from({ length: CHANNELS }, (_, g) => sockets.filter((_s, i) => i % CHANNELS === g));
  const padding = 'p'.repeat(800);
  let sent = 0;
  let deliveries = 0;
  let credit = 0;
  const total = RATE * SECONDS;
  await new Promise<void>((res) => {
    const timer = setInterval(() => {
      credit += RATE / 100;
      while (credit >= 1 && sent < total) {
        credit -= 1;
        const body = JSON.stringify({ type: 'channel.message.created', version: 'v1', resource: { body: `t=${now().toFixed(3)}`, padding } });
        const frameText = `MESSAGE\ndestination:/topic/channels/${sent % CHANNELS}/messages\ncontent-type:application/json\ncontent-length:${Buffer.byteLength(body)}\n\n${body}\0`;
        for (const ws of groups[sent % CHANNELS]) ws.send(frameText);
        deliveries += groups[sent % CHANNELS].length;
        sent++;
      }
      if (sent >= total) {
        clearInterval(timer);
        res();
      }
    }, 10);
  });
  const r = await clients.run({ cmd: 'rawCollect', expected: deliveries });
  await new Promise<void>((res) => wss.close(() => res()));
  return [
    {
      bus: 'baseline',
      measure: `bare ws server → client p50 / p99, ${RATE} msg/s to ${Math.round(CLIENTS / CHANNELS)} sockets each`,
      value: pct(r.latencies, 50),
      unit: 'ms',
      note: `p99 ${pct(r.latencies, 99)} ms, ${r.latencies.length}/${deliveries} deliveries, load ${load()}`,
    },
    { bus: 'baseline', measure: 'bare ws server heap per connection', value: heapPerSocket, unit: 'bytes', note: `${sockets.length} sockets, ${gc ? 'after gc' : 'run with --expose-gc'}` },
  ];
}

if (process.env.BENCH_ROLE === 'clients') {
  void clientProcess();
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
