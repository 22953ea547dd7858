import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ChatfnConfig } from '@chatfn/config';
import { TokenService } from '@chatfn/platform';
import type { RunnerReply, RunRequest } from '../../../runner/runner.protocol';
import { ExecutorDriver, RunnerHandle } from '../drivers/executor-driver';
import { RuntimeSpecSource } from './runtime-spec.source';

interface PoolEntry {
  key: string;
  handle?: RunnerHandle;
  starting?: Promise<RunnerHandle>;
  lastUsed: number;
}

export type PoolRunRequest = Omit<RunRequest, 'accessToken' | 'accessTokenExpiresAt'>;

/**
 * Warm runners, one per application runtime, started on demand (or ahead of need with `prewarm`). A runner whose
 * runtime changed (new artifact or environment) is replaced for new work while its in-flight invocations finish;
 * a runner that died (killed after a timeout, out of memory) is replaced on the next use; idle runners retire after
 * `CHATFN_RUNNER_IDLE_MS`.
 */
@Injectable()
export class RunnerPool implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RunnerPool.name);
  private readonly entries = new Map<number, PoolEntry>();
  private readonly retiring = new Set<RunnerHandle>();
  private readonly tokenCache = new Map<number, { token: string; expiresAt: number; renewAt: number }>();
  private sweeper?: NodeJS.Timeout;
  private closed = false;
  /** Runners started since boot (tests and the benchmark read it). */
  started = 0;

  constructor(
    private readonly driver: ExecutorDriver,
    private readonly specs: RuntimeSpecSource,
    private readonly tokens: TokenService,
    private readonly config: ChatfnConfig,
  ) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.sweep(), 1_000);
    this.sweeper.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    const all = [...this.retiring];
    for (const e of this.entries.values()) {
      if (e.handle) all.push(e.handle);
      else if (e.starting) all.push(...(await e.starting.then((h) => [h]).catch(() => [])));
    }
    this.entries.clear();
    this.retiring.clear();
    await Promise.all(all.map((h) => h.stop().catch(() => undefined)));
    await this.driver.close();
  }

  /** Runs one invocation on the application's warm runner; never rejects. */
  async run(applicationId: number, req: PoolRunRequest): Promise<RunnerReply> {
    const started = Date.now();
    let handle: RunnerHandle;
    try {
      handle = await this.acquire(applicationId);
    } catch (e) {
      return {
        status: 'FAILED',
        error: { name: 'RunnerStartError', message: `Could not start a runner: ${e instanceof Error ? e.message : String(e)}` },
        logs: '',
        durationMs: Date.now() - started,
      };
    }
    const { token, expiresAt } = this.tokenFor(applicationId);
    const reply = await this.driver.invoke(handle, { ...req, accessToken: token, accessTokenExpiresAt: expiresAt });
    const entry = this.entries.get(applicationId);
    if (entry?.handle === handle) {
      entry.lastUsed = Date.now();
      if (!handle.alive) this.entries.delete(applicationId);
    }
    return reply;
  }

  /**
   * The application's access token handed to its runner, reused while it has more than half its lifetime left
   * (signing one per invocation costs more than the invocation).
   */
  private tokenFor(applicationId: number): { token: string; expiresAt: number } {
    const held = this.tokenCache.get(applicationId);
    const now = Date.now();
    if (held && held.renewAt > now) return held;
    const { token, claims } = this.tokens.issue(applicationId, `chatfn-runner-${applicationId}`);
    const expiresAt = claims.exp * 1000;
    const fresh = { token, expiresAt, renewAt: now + (expiresAt - now) / 2 };
    if (this.tokenCache.size > 10_000) this.tokenCache.clear();
    this.tokenCache.set(applicationId, fresh);
    return fresh;
  }

  /** Starts the application's runner now if it has none (apps with enabled blocking functions). */
  async prewarm(applicationId: number): Promise<void> {
    try {
      await this.acquire(applicationId);
    } catch (e) {
      this.logger.warn(`pre-warming application ${applicationId} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The runtime of an application changed: forget its spec; the next use starts a runner on the new one. */
  runtimeChanged(applicationId: number): void {
    this.specs.invalidate(applicationId);
    const e = this.entries.get(applicationId);
    if (e) void this.prewarmIfWarm(applicationId);
  }

  /** Runners currently serving (for tests, health and the benchmark). */
  warm(): { applicationId: number; key: string; id?: string; inFlight: number }[] {
    return [...this.entries.entries()].map(([applicationId, e]) => ({
      applicationId,
      key: e.key,
      id: e.handle?.id,
      inFlight: e.handle?.inFlight ?? 0,
    }));
  }

  private async prewarmIfWarm(applicationId: number): Promise<void> {
    await this.prewarm(applicationId);
  }

  async acquire(applicationId: number): Promise<RunnerHandle> {
    if (this.closed) throw new Error('the executor is shutting down');
    const { spec, initScript } = await this.specs.resolve(applicationId);
    let entry = this.entries.get(applicationId);
    if (entry && (entry.key !== spec.key || (entry.handle && !entry.handle.alive))) {
      this.retire(entry);
      this.entries.delete(applicationId);
      entry = undefined;
    }
    if (!entry) {
      const fresh: PoolEntry = { key: spec.key, lastUsed: Date.now() };
      fresh.starting = (async () => {
        const h = await this.driver.start(spec);
        this.started++;
        const { token, claims } = this.tokens.issue(applicationId, `chatfn-runner-${applicationId}`);
        const init = await h.init({ initScript, accessToken: token, accessTokenExpiresAt: claims.exp * 1000 });
        if (init.status === 'FAILED') {
          this.logger.warn(`initialization script of application ${applicationId} failed: ${init.error?.message}`);
        }
        return h;
      })();
      this.entries.set(applicationId, fresh);
      entry = fresh;
      let started: RunnerHandle;
      try {
        started = await fresh.starting;
        fresh.handle = started;
      } catch (e) {
        if (this.entries.get(applicationId) === fresh) this.entries.delete(applicationId);
        throw e;
      } finally {
        fresh.starting = undefined;
      }
      if (this.closed) {
        await started.stop();
        throw new Error('the executor is shutting down');
      }
      return started;
    }
    const handle = entry.handle ?? (await entry.starting!);
    entry.lastUsed = Date.now();
    return handle;
  }

  private retire(entry: PoolEntry): void {
    const h = entry.handle;
    if (h) this.retiring.add(h);
    else void entry.starting?.then((x) => this.retiring.add(x)).catch(() => undefined);
  }

  private async sweep(): Promise<void> {
    for (const h of [...this.retiring]) {
      if (!h.alive || h.inFlight === 0) {
        this.retiring.delete(h);
        await h.stop('The runner was replaced by a new runtime').catch(() => undefined);
      }
    }
    const idleMs = this.config.env.CHATFN_RUNNER_IDLE_MS;
    for (const [appId, e] of this.entries) {
      const h = e.handle;
      if (!h) continue;
      if (!h.alive) {
        this.entries.delete(appId);
      } else if (h.inFlight === 0 && Date.now() - e.lastUsed > idleMs) {
        this.entries.delete(appId);
        await h.stop('The runner retired after being idle').catch(() => undefined);
      }
    }
  }
}
