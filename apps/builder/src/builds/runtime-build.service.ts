import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ChatfnConfig } from '@chatfn/config';
import { BuildStatusPayload, EnvelopeMeta, Keys, RuntimeChangedPayload } from '@chatfn/contracts';
import { EventStore } from '@chatfn/event-store';
import { MessageBus } from '@chatfn/messaging';
import { RuntimeBuild, RuntimeBuildRepository } from '@chatfn/runtime-artifacts';
import { ArtifactBuilder, ArtifactSpec, BuildFailure, BuiltArtifact } from '../drivers/artifact-builder';
import { RunnerBundle } from '../runner/runner-bundle';
import { BufferedBuildLog } from './build-log';
import { BuildIdentity, contentHash, dependenciesHash, normalizeDependencies } from './content-hash';

/** Serialises promotions per application and driver (advisory lock namespace 'bldr'). */
const PROMOTE_LOCK_NAMESPACE = 0x626c6472;

export const RUNNER_BUNDLE = Symbol('RunnerBundle');
export const BUILDER_OPTIONS = Symbol('BuilderOptions');

export interface BuilderOptions {
  /** Artifacts no live build uses are removed after this long (default 10 min). */
  gcGraceMs: number;
  /** How often running builds write their log to the table (default 1 s). */
  logFlushMs: number;
}

interface Job {
  buildId: string;
  applicationId: number;
  revision: number;
  cause?: EnvelopeMeta;
}

interface Slot {
  pending?: Job;
  running?: Job;
}

/**
 * Turns runtime changes into artifacts. `accept` (called from the bus handler) is quick: it records the build as
 * `requested` (or `skipped` when the content hash is already live, e.g. an environment-only change) and queues
 * it; builds run as tracked tasks, one at a time per application, newest revision first — a queued revision that a
 * newer one replaced never starts, and a build that finishes after a newer revision was requested is recorded as
 * `skipped` (superseded) and never becomes live. Every status change and its outbox message commit together.
 */
@Injectable()
export class RuntimeBuildService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RuntimeBuild');
  readonly repo: RuntimeBuildRepository;
  private readonly slots = new Map<number, Slot>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private gcTimer?: NodeJS.Timeout;
  private prewarmHash?: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: MessageBus,
    private readonly events: EventStore,
    private readonly config: ChatfnConfig,
    readonly builder: ArtifactBuilder,
    private readonly runner: RunnerBundle,
    private readonly options: BuilderOptions,
  ) {
    this.repo = new RuntimeBuildRepository(dataSource);
  }

  get driver() {
    return this.builder.driver;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Builds accepted before a restart: queue them again (older ones are superseded by newer ones as usual).
    for (const b of await this.repo.unfinished(this.driver)) {
      this.enqueue({ buildId: b.id, applicationId: b.applicationId, revision: b.runtimeRevision });
    }
    if (this.config.env.CHATFN_BUILDER_PREWARM) this.track(this.prewarm());
  }

  async onApplicationShutdown(): Promise<void> {
    this.shutdown.abort();
    if (this.gcTimer) clearTimeout(this.gcTimer);
    await this.idle();
  }

  /** Resolves when no build is queued or running (tests and benchmarks wait on this). */
  async idle(): Promise<void> {
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }

  /** Records a runtime change and queues its build. Idempotent on the runtime revision. */
  async accept(change: RuntimeChangedPayload, cause?: EnvelopeMeta): Promise<RuntimeBuild> {
    const rt = change.runtime;
    const deps = normalizeDependencies(rt.dependencies);
    let identity: BuildIdentity | undefined;
    let identityError: string | undefined;
    try {
      identity = await this.builder.identity();
    } catch (e) {
      identityError = e instanceof Error ? e.message : String(e);
    }
    const hash = identity ? contentHash(identity, deps, rt.initializationScript, this.runner.hash) : 'unknown';
    const depsHash = identity ? dependenciesHash(identity, deps) : 'unknown';
    const base = {
      id: randomUUID(),
      applicationId: rt.applicationId,
      runtimeId: rt.runtimeId,
      runtimeRevision: rt.revision,
      environmentRevision: rt.environmentRevision,
      driver: this.driver,
      reason: change.type,
      contentHash: hash,
      dependenciesHash: depsHash,
      dependencies: deps,
      initializationScript: rt.initializationScript,
    };
    const result = await this.dataSource.transaction(async (m) => {
      await this.lock(m, rt.applicationId);
      const existing = await this.repo.findByRevision(rt.applicationId, this.driver, rt.revision, m);
      if (existing) return { build: existing, queue: existing.status === 'requested' || existing.status === 'started' };
      const latest = await this.repo.latestRevision(rt.applicationId, this.driver, m);
      const live = await this.repo.live(rt.applicationId, this.driver, m);
      let status: RuntimeBuild['status'] = 'requested';
      let error: string | undefined;
      const badSpec = deps.find((d) => /[:/\\]/.test(d.version));
      if (badSpec) {
        status = 'failed';
        error = `dependency ${badSpec.name}: version must be a semver range or a dist-tag (URLs, git and file specs are not installed)`;
      } else if (identityError) {
        status = 'failed';
        error = identityError;
      } else if (latest > rt.revision) {
        status = 'skipped';
        error = `superseded by runtime revision ${latest}`;
      } else if (live?.contentHash === hash && !this.slots.get(rt.applicationId)?.pending) {
        status = 'skipped';
        error = `no build needed: artifact ${hash} is live (${change.type})`;
      }
      const { build } = await this.repo.insert({ ...base, status, error, logs: error ? `${error}\n` : '' }, m);
      await this.publish(m, build, {}, cause);
      return { build, queue: status === 'requested' };
    });
    if (result.queue) {
      this.enqueue({ buildId: result.build.id, applicationId: rt.applicationId, revision: rt.revision, cause });
    }
    return result.build;
  }

  private enqueue(job: Job): void {
    let slot = this.slots.get(job.applicationId);
    if (!slot) this.slots.set(job.applicationId, (slot = {}));
    if (slot.running?.buildId === job.buildId || slot.pending?.buildId === job.buildId) return;
    const replaced = slot.pending;
    if (replaced && replaced.revision > job.revision) {
      // An older revision arrived late: it never runs.
      this.track(this.supersede(job, replaced.revision));
      return;
    }
    slot.pending = job;
    if (replaced) this.track(this.supersede(replaced, job.revision));
    if (!slot.running) this.track(this.drain(job.applicationId, slot));
  }

  private async drain(applicationId: number, slot: Slot): Promise<void> {
    try {
      while (slot.pending && !this.shutdown.signal.aborted) {
        const job = slot.pending;
        slot.pending = undefined;
        slot.running = job;
        try {
          await this.run(job);
        } catch (e) {
          this.logger.error(`build ${job.buildId} crashed: ${e instanceof Error ? e.stack : String(e)}`);
        } finally {
          slot.running = undefined;
        }
      }
    } finally {
      if (!slot.pending && !slot.running) this.slots.delete(applicationId);
    }
    this.scheduleGc();
  }

  private async supersede(job: Job, by: number): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const b = await this.repo.get(job.buildId, m);
      if (!b || (b.status !== 'requested' && b.status !== 'started')) return;
      const msg = `superseded by runtime revision ${by}`;
      const updated = await this.repo.update(b.id, { status: 'skipped', error: msg, logs: `${b.logs}${msg}\n`, finishedAt: new Date() }, m);
      await this.publish(m, updated, {}, job.cause);
    });
  }

  private async run(job: Job): Promise<void> {
    const build = await this.repo.get(job.buildId);
    if (!build || (build.status !== 'requested' && build.status !== 'started')) return;
    const latest = await this.repo.latestRevision(build.applicationId, this.driver);
    if (latest > build.runtimeRevision) return this.supersede(job, latest);

    const log = new BufferedBuildLog();
    if (build.logs) log.write(build.logs);
    log.line(`build ${build.id}: runtime revision ${build.runtimeRevision} of application ${build.applicationId} (${build.reason})`);
    log.line(`driver ${this.driver}, content ${build.contentHash}, dependencies ${build.dependenciesHash}: ${build.dependencies.map((d) => `${d.name}@${d.version}`).join(' ')}`);
    await this.dataSource.transaction(async (m) => {
      const started = await this.repo.update(build.id, { status: 'started', startedAt: new Date(), logs: log.toString() }, m);
      await this.publish(m, started, {}, job.cause);
    });

    const timeoutMs = this.config.env.CHATFN_BUILD_TIMEOUT_MS;
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    const onShutdown = () => abort.abort();
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    const flusher = setInterval(() => {
      if (log.takeDirty()) void this.repo.update(build.id, { logs: log.toString() }).catch(() => undefined);
    }, this.options.logFlushMs);
    const t0 = Date.now();
    let output: BuiltArtifact | undefined;
    let failure: string | undefined;
    try {
      output = await this.reuse(build, log);
      if (!output) {
        const spec: ArtifactSpec = {
          buildId: build.id,
          contentHash: build.contentHash,
          dependenciesHash: build.dependenciesHash,
          dependencies: build.dependencies,
          initializationScript: build.initializationScript,
          runner: this.runner,
        };
        output = await this.builder.build(spec, log, abort.signal);
      }
    } catch (e) {
      if (this.shutdown.signal.aborted && !timedOut) {
        // Stopping: leave the build `started`; the next start-up queues it again.
        log.line('builder stopping: build interrupted, it resumes at the next start');
        await this.repo.update(build.id, { logs: log.toString() }).catch(() => undefined);
        return;
      }
      failure = timedOut
        ? `build exceeded CHATFN_BUILD_TIMEOUT_MS (${timeoutMs} ms)`
        : e instanceof BuildFailure
          ? e.message
          : `build failed: ${e instanceof Error ? e.message : String(e)}`;
      if (!(e instanceof BuildFailure) && !timedOut) this.logger.error(e instanceof Error ? e.stack : String(e));
    } finally {
      clearTimeout(timer);
      clearInterval(flusher);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
    }

    if (failure || !output) {
      log.line(`FAILED after ${Date.now() - t0} ms: ${failure}`);
      await this.dataSource.transaction(async (m) => {
        const failed = await this.repo.update(build.id, { status: 'failed', error: failure, logs: log.toString(), finishedAt: new Date() }, m);
        await this.publish(m, failed, {}, job.cause);
      });
      return;
    }
    log.line(`artifact ${output.image ?? output.directory} ready in ${Date.now() - t0} ms${output.dependencyLayerReused ? ' (dependency layer reused)' : ''}`);
    await this.finish(build, output, log, job);
  }

  /** An artifact with the same content hash that still exists (built for any application): no build at all. */
  private async reuse(build: RuntimeBuild, log: BufferedBuildLog): Promise<BuiltArtifact | undefined> {
    const prior = await this.repo.findArtifact(this.driver, build.contentHash);
    if (!prior) return undefined;
    const ref = { image: prior.image ?? undefined, directory: prior.directory ?? undefined };
    if (!(await this.builder.exists(ref))) return undefined;
    log.line(`artifact ${build.contentHash} already exists (build ${prior.id}): reused, nothing to build`);
    return { ...ref, lockfile: prior.lockfile ?? undefined, dependencyLayerReused: true };
  }

  /** Records success and makes it live, unless a newer revision was requested meanwhile. */
  private async finish(build: RuntimeBuild, output: BuiltArtifact, log: BufferedBuildLog, job: Job): Promise<void> {
    const reused = log.toString().includes('reused, nothing to build');
    await this.dataSource.transaction(async (m) => {
      await this.lock(m, build.applicationId);
      const latest = await this.repo.latestRevision(build.applicationId, this.driver, m);
      const superseded = latest > build.runtimeRevision;
      if (superseded) log.line(`superseded by runtime revision ${latest}: not made live`);
      const done = await this.repo.update(
        build.id,
        {
          status: superseded ? 'skipped' : 'succeeded',
          error: superseded ? `superseded by runtime revision ${latest}` : undefined,
          image: output.image ?? null,
          directory: output.directory ?? null,
          lockfile: output.lockfile ?? null,
          reused,
          logs: log.toString(),
          finishedAt: new Date(),
        },
        m,
      );
      if (!superseded) await this.repo.promote(done, m);
      await this.publish(m, done, output, job.cause);
    });
  }

  private async publish(m: EntityManager, b: RuntimeBuild, artifact: { image?: string; directory?: string }, cause?: EnvelopeMeta): Promise<void> {
    const payload: BuildStatusPayload = {
      applicationId: b.applicationId,
      buildId: b.id,
      runtimeRevision: b.runtimeRevision,
      contentHash: b.contentHash,
      driver: b.driver,
      status: b.status,
    };
    if (b.status === 'succeeded' || (b.status === 'skipped' && (artifact.image || artifact.directory))) {
      payload.artifact = { image: artifact.image, directory: artifact.directory };
    }
    if (b.error) payload.error = b.error;
    await this.events.enqueue(m, [this.bus.envelope('builder.build.status.v1', payload, { key: Keys.application(b.applicationId), cause })]);
  }

  private async lock(m: EntityManager, applicationId: number): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PROMOTE_LOCK_NAMESPACE, `${applicationId}:${this.driver}`]);
  }

  private track(p: Promise<void>): void {
    const t = p.catch((e) => this.logger.error(e instanceof Error ? e.stack : String(e))).finally(() => this.tasks.delete(t));
    this.tasks.add(t);
  }

  /** Removes artifacts no live build uses, once nothing is building. */
  private scheduleGc(): void {
    if (this.gcTimer || this.shutdown.signal.aborted) return;
    this.gcTimer = setTimeout(() => {
      this.gcTimer = undefined;
      if (this.slots.size) return;
      this.track(this.collectGarbage().then(() => undefined));
    }, 1_000);
    this.gcTimer.unref();
  }

  async collectGarbage(graceMs = this.options.gcGraceMs): Promise<string[]> {
    const keep = new Set<string>((await this.repo.allLive(this.driver)).map((b) => b.contentHash));
    for (const b of await this.repo.unfinished(this.driver)) keep.add(b.contentHash);
    if (this.prewarmHash) keep.add(this.prewarmHash);
    const removed = await this.builder.collectGarbage(keep, graceMs);
    if (removed.length) this.logger.log(`removed unused artifacts: ${removed.join(', ')}`);
    return removed;
  }

  /** Builds the default-dependency layer once, so a new application's first runtime needs no npm install. */
  private async prewarm(): Promise<void> {
    const identity = await this.builder.identity();
    const deps = normalizeDependencies([]);
    const spec: ArtifactSpec = {
      buildId: `prewarm-${randomUUID()}`,
      contentHash: contentHash(identity, deps, '', this.runner.hash),
      dependenciesHash: dependenciesHash(identity, deps),
      dependencies: deps,
      initializationScript: '',
      runner: this.runner,
    };
    this.prewarmHash = spec.contentHash;
    const log = new BufferedBuildLog();
    const t0 = Date.now();
    try {
      await this.builder.build(spec, log, this.shutdown.signal);
      this.logger.log(`default runtime ready in ${Date.now() - t0} ms`);
    } catch (e) {
      this.logger.warn(`prewarming the default runtime failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
