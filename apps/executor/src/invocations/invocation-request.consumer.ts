import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Envelope, InvocationError, InvocationRequestedPayload, Keys } from '@chatfn/contracts';
import { ChatfnConfig } from '@chatfn/config';
import { FunctionDirectory } from '@chatfn/function-directory';
import { MessageBus, Subscription } from '@chatfn/messaging';
import type { RunnerReply } from '../../../runner/runner.protocol';
import { FunctionInvoker } from './function-invoker.service';
import { InvocationDedupRepository } from './invocation-dedup.repository';

export const EXECUTOR_GROUP = 'executor';
/** Invocations one executor instance runs at once; the consumer waits (applies back-pressure) beyond this. */
const MAX_IN_FLIGHT = 64;

/**
 * Consumes `router.invocation.requested.v1` (group `executor`: instances share the work). Each request is claimed in
 * `invocation_dedup` and handed to a tracked task, so long runs never hold the consumer (no missed heartbeats);
 * tasks of one key (channel) still run in order. Each attempt publishes `executor.invocation.completed.v1`; after
 * `CHATFN_MAX_ATTEMPTS` failures the request goes to `executor.invocation.dead-lettered.v1`.
 */
@Injectable()
export class InvocationRequestConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InvocationRequestConsumer.name);
  private subscription?: Subscription;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly tasks = new Set<Promise<void>>();
  private capacityWaiters: (() => void)[] = [];
  private pruner?: NodeJS.Timeout;

  constructor(
    private readonly bus: MessageBus,
    private readonly config: ChatfnConfig,
    private readonly functions: FunctionDirectory,
    private readonly invoker: FunctionInvoker,
    private readonly dedup: InvocationDedupRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe('router.invocation.requested.v1', EXECUTOR_GROUP, (env) => this.accept(env), {
      concurrency: 16,
    });
    const prune = () => void this.dedup.prune(this.config.env.CHATFN_INVOCATION_RETENTION_DAYS).catch(() => undefined);
    prune();
    this.pruner = setInterval(prune, 3_600_000);
    this.pruner.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.pruner) clearInterval(this.pruner);
    await this.subscription?.close();
    await Promise.allSettled([...this.tasks]);
  }

  /** Tasks accepted and not finished (tests wait for 0). */
  get pending(): number {
    return this.tasks.size;
  }

  private async accept(env: Envelope<InvocationRequestedPayload>): Promise<void> {
    while (this.tasks.size >= MAX_IN_FLIGHT) await new Promise<void>((r) => this.capacityWaiters.push(r));
    const p = env.payload;
    const key = { sourceEventId: p.sourceEventId, functionId: p.functionId, versionNumber: p.versionNumber };
    const attempts = this.config.env.CHATFN_MAX_ATTEMPTS;
    const staleAfter = attempts * (p.timeoutMs + 2_000) + attempts * this.config.env.CHATFN_RETRY_BACKOFF_MS * 4 + 30_000;
    // Throws on a database error: the bus redelivers.
    if (!(await this.dedup.claim(key, p.invocationId, staleAfter))) {
      this.logger.debug(`skipping duplicate invocation request ${p.invocationId} (event ${p.sourceEventId})`);
      return;
    }
    const prev = this.chains.get(env.key) ?? Promise.resolve();
    const task: Promise<void> = prev
      .then(() => this.execute(env))
      .catch((e) => this.logger.error(`invocation ${p.invocationId} failed unexpectedly: ${e instanceof Error ? e.stack : String(e)}`))
      .finally(() => {
        this.tasks.delete(task);
        if (this.chains.get(env.key) === task) this.chains.delete(env.key);
        this.capacityWaiters.shift()?.();
      });
    this.tasks.add(task);
    this.chains.set(env.key, task);
  }

  private async execute(env: Envelope<InvocationRequestedPayload>): Promise<void> {
    const req = env.payload;
    const maxAttempts = this.config.env.CHATFN_MAX_ATTEMPTS;
    const backoff = this.config.env.CHATFN_RETRY_BACKOFF_MS;
    let lastError: InvocationError | undefined;
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
      await this.bus.publish(
        'executor.invocation.completed.v1',
        {
          invocationId: req.invocationId,
          applicationId: req.applicationId,
          functionId: req.functionId,
          triggerType: req.triggerType,
          versionNumber,
          status: reply.status,
          args: req.event,
          result: reply.status === 'SUCCEEDED' ? { payload: reply.result ?? null } : undefined,
          error: reply.error,
          logs: reply.logs,
          durationMs: reply.durationMs,
          attempt,
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          deadLettered,
        },
        { key: Keys.fn(req.functionId), cause: env },
      );
      if (last) {
        if (deadLettered) {
          lastError = reply.error;
          await this.bus.publish(
            'executor.invocation.dead-lettered.v1',
            { request: { ...req, attempt }, error: lastError ?? { name: 'Error', message: 'failed' } },
            { key: env.key, cause: env },
          );
        }
        break;
      }
      await new Promise((r) => setTimeout(r, backoff * 2 ** (attempt - req.attempt)));
    }
    await this.dedup.finish({ sourceEventId: req.sourceEventId, functionId: req.functionId, versionNumber: req.versionNumber });
  }
}
