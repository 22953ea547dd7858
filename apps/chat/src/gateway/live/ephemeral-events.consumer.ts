import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Keys } from '@chatfn/contracts';
import { ChatfnConfig } from '@chatfn/config';
import { MessageBus, Subscription } from '@chatfn/messaging';
import { TopicHub, TopicSubscriber } from '../topic-hub';

const TOPIC = 'gateway.ephemeral.published.v1';

/**
 * Live events that are never stored (typing, keystrokes) across gateway instances: delivered at once to this
 * instance's subscribers, and published straight to the bus (no outbox, no chat event) for the others. Every
 * instance consumes in a group of its own and skips what it published itself. Best effort: a bus failure loses the
 * event for the other instances only, and is logged.
 */
@Injectable()
export class EphemeralEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GatewayLive');
  private subscription?: Subscription;
  private readonly origin: string;
  private lastWarning = 0;
  private lost = 0;

  constructor(
    private readonly bus: MessageBus,
    private readonly hub: TopicHub,
    config: ChatfnConfig,
  ) {
    this.origin = config.instanceId;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      TOPIC,
      `gateway-ephemeral-${this.origin}`,
      async ({ payload: p }) => {
        if (p.origin !== this.origin) this.hub.publish(p.applicationId, p.topic, p.type, p.resource);
      },
      { fromBeginning: false, concurrency: 32 },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
  }

  /** Delivers to local subscribers of `topic` (except `skip`, the sender) and to every other instance's. */
  publish(applicationId: number, channelId: number, topic: string, type: string, resource: Record<string, unknown>, skip?: TopicSubscriber): void {
    this.hub.publish(applicationId, topic, type, resource, skip);
    this.bus
      .publish(TOPIC, { applicationId, origin: this.origin, topic, type, resource }, { key: Keys.channel(applicationId, channelId) })
      .catch((e) => this.warn(e));
  }

  /** Typing goes on while the bus is down: one line a minute, not one per keystroke. */
  private warn(e: unknown): void {
    this.lost++;
    const now = Date.now();
    if (now - this.lastWarning < 60_000) return;
    this.lastWarning = now;
    this.logger.warn(`${this.lost} typing/keystroke event(s) not relayed to the other gateway instances: ${String(e)}`);
    this.lost = 0;
  }
}
