import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ChatEventPayload, Keys } from '@chatfn/contracts';
import { EventStore } from '@chatfn/event-store';
import { MessageBus, PublishOptions } from '@chatfn/messaging';

export interface ChatEventInput {
  applicationId: number;
  /** A trigger type (`user.sent.message`, ...) or a platform event (`user.created`, `channel.created`, ...). */
  type: string;
  channelId?: number;
  userId?: number;
  /** For trigger types: exactly the `event` a chat function receives. */
  data: Record<string, unknown>;
  /** From `@EventDepth()`: 0 for users and API clients, n+1 for actions of a function run at depth n. */
  depth: number;
}

/** Stream of one channel's chat events. */
export const channelStream = (channelId: number) => `chat-channel-${channelId}`;
/** Stream of an application's chat events that belong to no channel. */
export const applicationStream = (applicationId: number) => `chat-app-${applicationId}`;

/**
 * Records a chat event in the caller's transaction: appends it to the event store (one stream per channel, else
 * one per application) and enqueues the `chat.event.recorded.v1` envelope in the outbox (keyed by channel, else by
 * application), so the state change, the event and its publication commit or roll back together.
 */
@Injectable()
export class ChatEventRecorder {
  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus,
  ) {}

  async record(manager: EntityManager, e: ChatEventInput, opts: PublishOptions = {}): Promise<{ eventId: string }> {
    const payload: ChatEventPayload = {
      applicationId: e.applicationId,
      type: e.type,
      depth: e.depth,
      data: e.data,
    };
    if (e.channelId !== undefined) payload.channelId = e.channelId;
    if (e.userId !== undefined) payload.userId = e.userId;
    const key = e.channelId !== undefined ? Keys.channel(e.applicationId, e.channelId) : Keys.application(e.applicationId);
    const envelope = this.bus.envelope('chat.event.recorded.v1', payload, { ...opts, key });
    const stream = e.channelId !== undefined ? channelStream(e.channelId) : applicationStream(e.applicationId);
    await this.store.append(manager, stream, 'any', [
      {
        type: e.type,
        data: payload,
        metadata: { eventId: envelope.eventId, correlationId: envelope.correlationId, occurredAt: envelope.occurredAt },
      },
    ]);
    await this.store.enqueue(manager, [envelope]);
    return { eventId: envelope.eventId };
  }

  /** Records several events in order (e.g. a message and the notifications it causes). */
  async recordAll(manager: EntityManager, events: ChatEventInput[], opts: PublishOptions = {}): Promise<void> {
    for (const e of events) await this.record(manager, e, opts);
  }
}
