import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Envelope, EnvelopeMeta, InvocationError, InvocationRequestedPayload } from '@chatfn/contracts';
import { ChatfnConfig } from '@chatfn/config';
import { FunctionDirectory } from '@chatfn/function-directory';
import { MessageBus, MicroBatcher, Subscription } from '@chatfn/messaging';
import type { RunnerReply } from '../../../runner/runner.protocol';
import { completedPayload, FunctionInvoker } from './function-invoker.service';
import { DedupKey, InboxItem, InvocationDedupRepository } from './invocation-dedup.repository';

export const EXECUTOR_GROUP = 'executor';
/** Invocations one executor instance holds at once (running or waiting behind their channel); the consumer waits beyond. */
const MAX_IN_FLIGHT = 512;

/** What the inbox keeps of the request's envelope (to key, trace and correlate the work when another executor takes over). */
type Cause = Pick<Envelope, 'key' | 'eventId' | 'correlationId' | 'causationId' | 'traceparent' | 'occurredAt' | 'producer' | 'schemaVersion'>;

interface Accepted {
  req: InvocationRequestedPayload;
  cause: Cause;
}

/**
 * Consumes `router.invocation.requested.v1` (group `executor`: instances share the work).
 *
 * Accepting is cheap and batched: delivered batches (and concurrent deliveries) are claimed together in one multi-row INSERT into the
 * durable inbox (`invocation_dedup`, which stores the request under this executor's lease) and the delivery is done —
 * the bus moves on at once, while the work runs as a tracked task (tasks of one key, a channel, still run in order).
 * Completions are batched too: one produce call for the `executor.invocation.completed.v1` events of many tasks, then
 * one UPDATE marking them done. The executor renews its lease every third of `CHATFN_EXECUTOR_LEASE_MS`; the accepted
 * and unfinished invocations of an executor that died are taken over by another one (or by itself after a restart),
 * so none is lost, and the inbox's claim makes a redelivered request a no-op, so none runs twice.
 */
@Injectable()
export class InvocationRequestConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InvocationRequestConsumer.name);
  private readonly owner: string;
  private subscription?: Subscription;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly tasks = new Set<Promise<void>>();
  private capacityWaiters: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private renewer?: NodeJS.Timeout;
  /** The inbox keys of the tasks held (accepted or taken over, not yet recorded as done). */
  private readonly held = new Map<string, DedupKey>();
  private closing = false;
  private readonly claims: MicroBatcher<InboxItem<InvocationRequestedPayload, Cause>, boolean>;
  private readonly completions: MicroBatcher<{ envelopes: Envelope[]; done?: DedupKey }>;

  constructor(
    private readonly bus: MessageBus,
    private readonly config: ChatfnConfig,
    private readonly functions: FunctionDirectory,
    private readonly invoker: FunctionInvoker,
    private readonly dedup: InvocationDedupRepository,
  ) {
    this.owner = `${config.env.CHATFN_INSTANCE_ID ?? 'executor'}:${randomUUID().slice(0, 8)}`;
    this.claims = new MicroBatcher((items) => this.dedup.claimMany(items, this.owner, this.leaseMs), { maxBatch: 500, maxConcurrent: 2 });
    this.completions = new MicroBatcher(
      async (items) => {
        await this.bus.publishEnvelopes(items.flatMap((i) => i.envelopes));
        await this.dedup.finishMany(items.flatMap((i) => (i.done ? [i.done] : [])));
      },
      // One flush at a time: under load the batches grow instead of the statements (syscalls cost more than rows).
      { maxBatch: 1000, maxConcurrent: 1 },
    );
  }

  private get leaseMs(): number {
    return this.config.env.CHATFN_EXECUTOR_LEASE_MS;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribeBatch('router.invocation.requested.v1', EXECUTOR_GROUP, (envs) => this.accept(envs), {
      concurrency: 64,
      maxBatch: 200,
    });
    const prune = () => void this.dedup.prune(this.config.env.CHATFN_INVOCATION_RETENTION_DAYS).catch(() => undefined);
    prune();
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => void fn().catch((e) => this.logger.warn(String(e))), ms);
      t.unref();
      this.timers.push(t);
    };
    every(3_600_000, async () => prune());
    every(Math.max(250, Math.floor(this.leaseMs / 2)), () => this.takeOver());
    // Renewed until the last task finished, shutdown included (a draining executor keeps its work).
    const renew = () => void this.renew().catch((e) => this.logger.warn(`renewing the lease failed: ${String(e)}`));
    this.renewer = setInterval(renew, Math.max(100, Math.floor(this.leaseMs / 3)));
    this.renewer.unref();
    void this.takeOver().catch((e) => this.logger.warn(`taking over lapsed invocations failed: ${String(e)}`));
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    await this.subscription?.close();
    await Promise.allSettled([...this.tasks]);
    if (this.renewer) clearInterval(this.renewer);
  }

  /**
   * Renews the lease on exactly the invocations this executor holds in memory: a claim it made but lost track of
   * (its reply was lost) lapses and is taken over rather than held forever.
   */
  private async renew(): Promise<void> {
    if (this.held.size > 0) await this.dedup.renew(this.owner, [...this.held.values()]);
  }

  /** Tasks accepted and not finished (tests wait for 0). */
  get pending(): number {
    return this.tasks.size;
  }

  /** This executor's lease owner id (tests). */
  get ownerId(): string {
    return this.owner;
  }

  /**
   * Claims a delivered batch in the inbox and schedules what it claimed (a duplicate is skipped). A claim that failed
   * (database error) fails the delivery, which the bus redelivers; a key's requests after its failed one are not
   * scheduled now (order), and any of them already claimed lapse and are taken over like a lost executor's work.
   */
  private async accept(envs: Envelope<InvocationRequestedPayload>[]): Promise<void> {
    while (this.tasks.size >= MAX_IN_FLIGHT) await new Promise<void>((r) => this.capacityWaiters.push(r));
    const items = envs.map((env) => {
      const cause: Cause = {
        key: env.key,
        eventId: env.eventId,
        correlationId: env.correlationId,
        causationId: env.causationId,
        traceparent: env.traceparent,
        occurredAt: env.occurredAt,
        producer: env.producer,
        schemaVersion: env.schemaVersion,
      };
      return { key: keyOf(env.payload), invocationId: env.payload.invocationId, request: env.payload, cause };
    });
    const claims = await Promise.allSettled(items.map((item) => this.claims.add(item)));
    const failedKeys = new Set<string>();
    let failure: unknown;
    claims.forEach((claim, i) => {
      const { request, cause } = items[i];
      if (claim.status === 'rejected') {
        failure ??= claim.reason;
        failedKeys.add(cause.key);
      } else if (!claim.value) {
        this.logger.debug(`skipping duplicate invocation request ${request.invocationId} (event ${request.sourceEventId})`);
      } else if (!failedKeys.has(cause.key)) {
        this.schedule({ req: request, cause });
      }
    });
    if (failure !== undefined) throw failure;
  }

  /** Runs the inbox's lapsed invocations of dead executors here. */
  private async takeOver(): Promise<void> {
    if (this.closing) return;
    const room = MAX_IN_FLIGHT - this.tasks.size;
    if (room <= 0) return;
    const items = await this.dedup.takeOver<InvocationRequestedPayload, Cause>(this.owner, this.leaseMs, Math.min(room, 200));
    if (items.length) this.logger.warn(`took over ${items.length} invocation(s) of an executor that stopped renewing its lease`);
    for (const it of items) this.schedule({ req: it.request, cause: it.cause });
  }

  private schedule(a: Accepted): void {
    const key = a.cause.key;
    const inboxKey = keyOf(a.req);
    const heldKey = `${inboxKey.sourceEventId}:${inboxKey.functionId}:${inboxKey.versionNumber}`;
    this.held.set(heldKey, inboxKey);
    const prev = this.chains.get(key) ?? Promise.resolve();
    // The chain (next task of the key) waits for the run only; recording the outcome is batched behind it.
    const ran = prev.then(() => this.execute(a));
    const task: Promise<void> = ran
      .then((r) => r.recorded)
      .catch((e) => this.logger.error(`invocation ${a.req.invocationId} failed unexpectedly: ${e instanceof Error ? e.stack : String(e)}`))
      .finally(() => {
        this.tasks.delete(task);
        this.held.delete(heldKey);
        this.capacityWaiters.shift()?.();
      });
    const link = ran.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(key, link);
    void link.then(() => {
      if (this.chains.get(key) === link) this.chains.delete(key);
    });
    this.tasks.add(task);
  }

  /** Runs all attempts; resolves once the last attempt ran, with the promise of its outcomes being recorded. */
  private async execute({ req, cause }: Accepted): Promise<{ recorded: Promise<void> }> {
    const maxAttempts = this.config.env.CHATFN_MAX_ATTEMPTS;
    const backoff = this.config.env.CHATFN_RETRY_BACKOFF_MS;
    const causeMeta = cause as unknown as EnvelopeMeta;
    const records: Promise<void>[] = [];
    for (let attempt = req.attempt; attempt <= maxAttempts; attempt++) {
      const fn = this.functions.getById(req.functionId);
      const startedAt = new Date();
      let reply: RunnerReply;
      let versionNumber = req.versionNumber;
      if (!fn?.handlerScript) {
        reply = {
          status: 'FAILED',
          error: { name: 'FunctionNotFoundError', message: `Function ${req.functionId} has no deployed version` },
          logs: '',
          durationMs: 0,
        };
      } else {
        // The directory holds the current version; a deploy after routing runs the newer code (recorded as such).
        versionNumber = Math.max(fn.currentVersionNumber, 1);
        reply = await this.invoker.invoke({
          invocationId: req.invocationId,
          applicationId: req.applicationId,
          functionId: req.functionId,
          versionNumber,
          script: fn.handlerScript,
          event: req.event,
          depth: req.depth,
          timeoutMs: req.timeoutMs,
        });
      }
      const last = reply.status === 'SUCCEEDED' || attempt >= maxAttempts;
      const deadLettered = reply.status === 'FAILED' && attempt >= maxAttempts;
      const envelopes: Envelope[] = [
        this.bus.envelope(
          'executor.invocation.completed.v1',
          completedPayload({ ...req, versionNumber }, reply, { attempt, startedAt, deadLettered }),
          // Keyed like the request (its channel): one invocation's attempts stay in order, and the completions of
          // a channel's invocations finishing together travel as one packed record.
          { key: cause.key, cause: causeMeta },
        ),
      ];
      if (deadLettered) {
        const lastError: InvocationError = reply.error ?? { name: 'Error', message: 'failed' };
        envelopes.push(
          this.bus.envelope('executor.invocation.dead-lettered.v1', { request: { ...req, attempt }, error: lastError }, { key: cause.key, cause: causeMeta }),
        );
      }
      // The last attempt's record also marks the inbox row done (after the events are out).
      records.push(this.recordWithRetry(envelopes, last ? keyOf(req) : undefined));
      if (last) break;
      await new Promise((r) => setTimeout(r, backoff * 2 ** (attempt - req.attempt)));
    }
    return { recorded: Promise.all(records).then(() => undefined) };
  }

  /** Records an outcome; a failing bus or database is retried (the inbox row stays running until it succeeds). */
  private async recordWithRetry(envelopes: Envelope[], done: DedupKey | undefined): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.completions.add({ envelopes, done });
        return;
      } catch (e) {
        if (this.closing && i >= 2) throw e;
        this.logger.warn(`recording invocation outcome failed (retrying): ${String(e)}`);
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** i)));
      }
    }
  }
}

function keyOf(p: InvocationRequestedPayload): DedupKey {
  return { sourceEventId: p.sourceEventId, functionId: p.functionId, versionNumber: p.versionNumber };
}
