import { Agent, ClientRequest, IncomingMessage, request } from 'node:http';
import type { Duplex } from 'node:stream';
import type { InitRequest, RunnerReply, RunRequest } from '../../../runner/runner.protocol';
import { RunnerExit, RunnerHandle, RuntimeSpec } from './executor-driver';

/** Resolves with undefined after `ms` without keeping the process alive. */
function quietDelay(ms: number): Promise<undefined> {
  return new Promise((r) => (setTimeout(r, ms) as unknown as NodeJS.Timeout).unref());
}

/** Extra time the host waits beyond a function's timeout before it declares the runner unresponsive. */
export const HARD_TIMEOUT_GRACE_MS = 1_000;

/** A call waiting for its reply on the channel. */
interface ChannelCall {
  readonly started: number;
  readonly done: (r: RunnerReply) => void;
}

/** Versions whose script a channel remembers having sent (a runner keeps every version it loaded). */
const MAX_SENT_VERSIONS = 10_000;

/**
 * The host side of the runner protocol, shared by both drivers: JSON over HTTP to the runner's loopback port, or —
 * when the driver hands over a channel (`useChannel`: the process driver's inherited socket pair) — NDJSON over that
 * channel, which costs a fraction of an HTTP exchange. Subclasses only start and kill the runner (`kill`) and
 * resolve `exited`.
 */
export abstract class RunnerConnection implements RunnerHandle {
  readonly startedAt = Date.now();
  private _inFlight = 0;
  private _alive = true;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private killReason?: string;
  private resolveExit!: (e: RunnerExit) => void;
  readonly exited: Promise<RunnerExit> = new Promise((r) => (this.resolveExit = r));
  /** Last lines of the runner's stderr, for crash diagnostics. */
  protected stderrTail = '';

  constructor(
    readonly id: string,
    readonly spec: RuntimeSpec,
    protected readonly host: string,
    protected port: number,
    protected readonly token: string,
  ) {}

  get alive(): boolean {
    return this._alive;
  }
  get inFlight(): number {
    return this._inFlight;
  }

  protected abstract kill(): Promise<void>;

  /** Called by subclasses when the runner is gone. */
  protected markExited(code: number | null, signal: string | null): void {
    if (!this._alive && this.exitInfo) return;
    this._alive = false;
    this.agent.destroy();
    const oom = /heap out of memory|Allocation failed|OOMKilled/i.test(this.stderrTail) || code === 137;
    const reason =
      this.killReason ??
      (oom
        ? `The runner ran out of memory (limit ${this.spec.limits.memoryMb} MB) and was replaced`
        : `The runner exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`}) and was replaced`);
    this.exitInfo = { code, signal, reason };
    this.resolveExit(this.exitInfo);
  }
  private exitInfo?: RunnerExit;

  protected appendStderr(chunk: string): void {
    this.stderrTail = (this.stderrTail + chunk).slice(-8192);
  }

  async stop(reason = 'The runner was stopped'): Promise<void> {
    if (!this._alive) return;
    this.killReason ??= reason;
    this._alive = false;
    await this.kill();
    await Promise.race([this.exited, quietDelay(5_000)]);
  }

  init(req: InitRequest): Promise<RunnerReply> {
    const hard = (req.timeoutMs ?? 30_000) + HARD_TIMEOUT_GRACE_MS;
    if (this.channel) return this.viaChannel('init', req, hard, 'init');
    return this.call('/init', req, hard, 'init');
  }

  // ---- channel ------------------------------------------------------------------------------------------------

  private channel?: Duplex;
  private channelSeq = 0;
  private readonly channelCalls = new Map<number, ChannelCall>();
  private channelCorked = false;
  /** versionKey → the script sent for it on this channel (later runs of that version go without it). */
  private readonly sentVersions = new Map<string, string>();

  /** Talks to the runner over `channel` (NDJSON both ways) instead of HTTP from now on. */
  protected useChannel(channel: Duplex): void {
    this.channel = channel;
    channel.setEncoding('utf8');
    let buf = '';
    channel.on('data', (chunk: string) => {
      buf += chunk;
      let start = 0;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', start)) {
        this.onChannelLine(buf.slice(start, nl));
        start = nl + 1;
      }
      buf = start === 0 ? buf : buf.slice(start);
    });
    const gone = (e?: Error) => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this._alive = false;
      const calls = [...this.channelCalls.values()];
      this.channelCalls.clear();
      for (const c of calls) void this.lost(c.started, e ?? new Error('the runner closed its channel')).then(c.done);
    };
    channel.on('error', gone);
    channel.on('close', () => gone());
  }

  private onChannelLine(line: string): void {
    let msg: { id: number; reply: RunnerReply };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch (e) {
      // The stream is out of step: no later reply can be trusted. Replace the runner.
      this.killReason = `The runner sent invalid JSON on its channel (${String(e)}) and was replaced`;
      void this.stop(this.killReason);
      return;
    }
    this.channelCalls.get(msg.id)?.done(msg.reply);
  }

  private viaChannel(op: 'run' | 'init', body: RunRequest | InitRequest, hardTimeoutMs: number, what: string): Promise<RunnerReply> {
    const started = Date.now();
    const channel = this.channel;
    if (!this._alive || !channel) return Promise.resolve(this.failure(started, 'RunnerUnavailableError', `The runner is not running (${what})`));
    const id = ++this.channelSeq;
    this._inFlight++;
    return new Promise<RunnerReply>((resolve) => {
      let settled = false;
      const done = (r: RunnerReply) => {
        if (settled) return;
        settled = true;
        this.channelCalls.delete(id);
        clearTimeout(timer);
        this._inFlight--;
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.killReason = `The runner was unresponsive for ${hardTimeoutMs} ms (blocked event loop?) and was replaced`;
        void this.stop(this.killReason);
        done({
          ...this.failure(started, 'TimeoutError', `Function timed out after ${hardTimeoutMs - HARD_TIMEOUT_GRACE_MS} ms; the runner was unresponsive and was replaced`),
          timedOut: true,
        });
      }, hardTimeoutMs);
      this.channelCalls.set(id, { started, done });
      // Requests made in one turn of the event loop (one flush of microtasks) leave in one write.
      if (!this.channelCorked) {
        this.channelCorked = true;
        channel.cork();
        process.nextTick(() => {
          this.channelCorked = false;
          channel.uncork();
        });
      }
      channel.write(`${JSON.stringify({ id, op, body })}\n`);
    });
  }

  /**
   * A run on the channel carries its version's script until a run of that version succeeded there (the runner then
   * holds the version loaded); later runs of the version go without it.
   */
  private async channelRun(req: RunRequest): Promise<RunnerReply> {
    const hard = req.timeoutMs + HARD_TIMEOUT_GRACE_MS;
    const { script, versionKey } = req;
    if (script !== undefined && this.sentVersions.get(versionKey) === script) {
      return this.viaChannel('run', { ...req, script: undefined }, hard, req.invocationId);
    }
    const reply = await this.viaChannel('run', req, hard, req.invocationId);
    if (script !== undefined && reply.status === 'SUCCEEDED') {
      if (this.sentVersions.size >= MAX_SENT_VERSIONS) this.sentVersions.clear();
      this.sentVersions.set(versionKey, script);
    }
    return reply;
  }

  /**
   * Runs are batched: the runs asked for in one turn of the event loop go to the runner in one `POST /runs`, whose
   * replies stream back one NDJSON line each as soon as each finishes (a slow function delays no other's reply).
   * Each run keeps its own hard timeout. A runner without `/runs` (an image built before it) gets `POST /run`s.
   */
  run(req: RunRequest): Promise<RunnerReply> {
    if (this.channel) return this.channelRun(req);
    if (!this.batching) return this.call('/run', req, req.timeoutMs + HARD_TIMEOUT_GRACE_MS, req.invocationId);
    return new Promise<RunnerReply>((resolve) => {
      this.queued.push({ req, resolve });
      if (this.queued.length === 1) setImmediate(() => this.sendBatch());
    });
  }

  private batching = true;
  private queued: { req: RunRequest; resolve: (r: RunnerReply) => void }[] = [];

  private sendBatch(): void {
    const items = this.queued.splice(0, this.queued.length);
    if (items.length === 0) return;
    const started = Date.now();
    if (!this._alive) {
      for (const it of items) it.resolve(this.failure(started, 'RunnerUnavailableError', `The runner is not running (${it.req.invocationId})`));
      return;
    }
    this._inFlight += items.length;
    const settled = new Array<boolean>(items.length).fill(false);
    let open = items.length;
    const timers = items.map((it, i) =>
      setTimeout(() => {
        const hard = it.req.timeoutMs + HARD_TIMEOUT_GRACE_MS;
        this.killReason = `The runner was unresponsive for ${hard} ms (blocked event loop?) and was replaced`;
        void this.stop(this.killReason);
        done(i, {
          ...this.failure(started, 'TimeoutError', `Function timed out after ${it.req.timeoutMs} ms; the runner was unresponsive and was replaced`),
          timedOut: true,
        });
      }, it.req.timeoutMs + HARD_TIMEOUT_GRACE_MS),
    );
    const done = (i: number, r: RunnerReply) => {
      if (settled[i]) return;
      settled[i] = true;
      clearTimeout(timers[i]);
      this._inFlight--;
      open--;
      items[i].resolve(r);
    };
    const failRest = (r: () => Promise<RunnerReply>) => {
      if (open === 0) return;
      void r().then((reply) => items.forEach((_, i) => done(i, reply)));
    };
    const text = JSON.stringify({ requests: items.map((it) => it.req) });
    const req = this.post('/runs', text, (res) => {
      if (res.statusCode === 404) {
        // A runner from before batching: one request per run from now on.
        res.resume();
        this.batching = false;
        items.forEach((it, i) => {
          if (settled[i]) return;
          clearTimeout(timers[i]);
          settled[i] = true;
          open--;
          this._inFlight--;
          void this.run(it.req).then(it.resolve);
        });
        return;
      }
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8').slice(0, 500);
          failRest(async () => this.failure(started, 'RunnerProtocolError', `runner answered ${res.statusCode}: ${raw}`));
        });
        return;
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          try {
            const { i, reply } = JSON.parse(line) as { i: number; reply: RunnerReply };
            done(i, reply);
          } catch (e) {
            failRest(async () => this.failure(started, 'RunnerProtocolError', `runner sent invalid JSON: ${String(e)}`));
          }
        }
      });
      res.on('end', () => failRest(async () => this.failure(started, 'RunnerProtocolError', 'the runner ended the batch without every reply')));
      res.on('error', (e) => failRest(() => this.lost(started, e)));
      res.on('close', () => failRest(() => this.lost(started, new Error('connection closed'))));
    });
    req.on('error', (e) => failRest(() => this.lost(started, e)));
    req.end(text);
  }

  private async call(path: string, body: unknown, hardTimeoutMs: number, what: string): Promise<RunnerReply> {
    const started = Date.now();
    if (!this._alive) return this.failure(started, 'RunnerUnavailableError', `The runner is not running (${what})`);
    this._inFlight++;
    try {
      return await new Promise<RunnerReply>((resolve) => {
        const text = JSON.stringify(body);
        let settled = false;
        const done = (r: RunnerReply) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(r);
        };
        const timer = setTimeout(() => {
          const timeoutMs = hardTimeoutMs - HARD_TIMEOUT_GRACE_MS;
          this.killReason = `The runner was unresponsive for ${hardTimeoutMs} ms (blocked event loop?) and was replaced`;
          void this.stop(this.killReason);
          done({
            ...this.failure(started, 'TimeoutError', `Function timed out after ${timeoutMs} ms; the runner was unresponsive and was replaced`),
            timedOut: true,
          });
        }, hardTimeoutMs);
        const req = this.post(path, text, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) {
              return done(this.failure(started, 'RunnerProtocolError', `runner answered ${res.statusCode}: ${raw.slice(0, 500)}`));
            }
            try {
              done(JSON.parse(raw) as RunnerReply);
            } catch (e) {
              done(this.failure(started, 'RunnerProtocolError', `runner sent invalid JSON: ${String(e)}`));
            }
          });
          res.on('error', (e) => void this.lost(started, e).then(done));
        });
        req.on('error', (e) => void this.lost(started, e).then(done));
        req.end(text);
      });
    } finally {
      this._inFlight--;
    }
  }

  /** A JSON POST to the runner's HTTP server (keep-alive agent, bearer token). */
  private post(path: string, text: string, onResponse: (res: IncomingMessage) => void): ClientRequest {
    const headers = { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    return request({ host: this.host, port: this.port, path, method: 'POST', agent: this.agent, headers }, onResponse);
  }

  /** The connection broke: explain it by the runner's exit if it exited (crash, out of memory). */
  private async lost(started: number, e: Error): Promise<RunnerReply> {
    const exit = await Promise.race([this.exited, quietDelay(2_000)]);
    if (exit) return this.failure(started, 'RunnerCrashedError', exit.reason);
    return this.failure(started, 'RunnerConnectionError', `lost the connection to the runner: ${e.message}`);
  }

  private failure(started: number, name: string, message: string): RunnerReply {
    return { status: 'FAILED', error: { name, message }, logs: '', durationMs: Date.now() - started };
  }
}
