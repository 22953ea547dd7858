import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Envelope, InvocationCompletedPayload, InvocationRequestedPayload } from '@chatfn/contracts';
import { MessageBus, MicroBatcher, Subscription } from '@chatfn/messaging';
import { RuntimeService } from '../runtime/runtime.service';
import { InvocationsService } from './invocations.service';

const HOUR = 3_600_000;

interface LogBatch {
  requested?: Envelope<InvocationRequestedPayload>[];
  completed?: Envelope<InvocationCompletedPayload>[];
}

/**
 * Bus consumers of the registry: the invocation log (requested → RUNNING, completed and dead-lettered invocations) and build statuses
 * (recorded on the runtime stream); plus the periodic retention purge of the invocation log.
 */
@Injectable()
export class RegistryConsumers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RegistryConsumers');
  private readonly subs: Subscription[] = [];
  private timer?: NodeJS.Timeout;
  /**
   * Requested invocations (shown as RUNNING until their result arrives) and completions delivered concurrently are
   * recorded in one statement; a request whose completion is in the same batch costs nothing.
   */
  private readonly log = new MicroBatcher<LogBatch>(
    async (batches) =>
      this.invocations.recordLog(
        batches.flatMap((b) => b.requested ?? []),
        batches.flatMap((b) => b.completed ?? []),
      ),
    // At most about 1,000 rows per statement, however large the delivered batches are.
    { maxBatch: 1000, maxConcurrent: 1, weight: (b) => (b.requested?.length ?? 0) + (b.completed?.length ?? 0) },
  );

  constructor(
    private readonly bus: MessageBus,
    private readonly invocations: InvocationsService,
    private readonly runtime: RuntimeService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subs.push(
      await this.bus.subscribeBatch('executor.invocation.completed.v1', 'registry-invocations', (completed) => this.log.add({ completed }), {
        fromBeginning: true,
        concurrency: 256,
      }),
      await this.bus.subscribeBatch(
        'router.invocation.requested.v1',
        'registry-invocations-requested',
        (requested) => this.log.add({ requested }),
        { fromBeginning: true, concurrency: 256 },
      ),
      await this.bus.subscribe(
        'executor.invocation.dead-lettered.v1',
        'registry-dead-letters',
        (env) => this.invocations.recordDeadLettered(env),
        { fromBeginning: true },
      ),
      await this.bus.subscribe(
        'builder.build.status.v1',
        'registry-builds',
        async (env) => {
          const p = env.payload;
          await this.runtime.recordBuild(p.applicationId, {
            buildId: p.buildId,
            runtimeRevision: p.runtimeRevision,
            status: p.status,
            error: p.error,
          });
        },
        { fromBeginning: true },
      ),
    );
    const purge = () =>
      this.invocations
        .purgeExpired()
        .then((n) => n > 0 && this.logger.log(`purged ${n} expired invocations`))
        .catch((e) => this.logger.warn(`invocation retention purge failed: ${e}`));
    void purge();
    this.timer = setInterval(purge, HOUR);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.subs.splice(0).map((s) => s.close().catch(() => undefined)));
  }
}
