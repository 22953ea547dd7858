import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ChatfnConfig } from '@chatfn/config';
import { FunctionDirectory } from '@chatfn/function-directory';
import { Envelope } from '@chatfn/contracts';
import { MessageBus, MicroBatcher, Subscription } from '@chatfn/messaging';
import { routeChatEvent } from './route-chat-event';

export const ROUTER_GROUP = 'router';

/**
 * Consumes `chat.event.recorded.v1` (group `router`, in batches: a Kafka partition's fetch, an in-process key's
 * backlog) and emits one `router.invocation.requested.v1` per matching function, keyed like the chat event
 * (per-channel order). Function lookups hit the in-memory FunctionDirectory.
 */
@Injectable()
export class ChatEventConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscription?: Subscription;
  /** Requests routed from concurrently handled events (other channels) go out in one produce call. */
  private readonly out = new MicroBatcher<Envelope[]>((batches) => this.bus.publishEnvelopes(batches.flat()), {
    maxBatch: 500, // requests per produce call, however large the delivered batches are
    maxConcurrent: 2,
    weight: (envelopes) => envelopes.length,
  });

  constructor(
    private readonly bus: MessageBus,
    private readonly config: ChatfnConfig,
    private readonly functions: FunctionDirectory,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribeBatch(
      'chat.event.recorded.v1',
      ROUTER_GROUP,
      async (events) => {
        const out: Envelope[] = [];
        for (const env of events) {
          const routed = routeChatEvent(env.eventId, env.payload, this.functions, {
            maxDepth: this.config.env.CHATFN_MAX_EVENT_DEPTH,
            defaultTimeoutMs: this.config.env.CHATFN_FUNCTION_TIMEOUT_MS,
          });
          for (const r of routed) out.push(this.bus.envelope('router.invocation.requested.v1', r.payload, { key: env.key, eventId: r.eventId, cause: env }));
        }
        if (out.length > 0) await this.out.add(out);
      },
      { concurrency: 64, maxBatch: 500 },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
  }
}
