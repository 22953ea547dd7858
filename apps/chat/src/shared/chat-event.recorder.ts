import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ChatEventPayload, Keys } from '@chatfn/contracts';
import { EventStore, NewEvent } from '@chatfn/event-store';
import { MessageBus, PublishOptions } from '@chatfn/messaging';
import { toWire } from '../channels/wire-format';

export interface ChatEventInput {
  applicationId: number;
  /** A trigger type (`user.sent.message`, ...) or a platform event (`user.created`, `channel.created`, ...). */
  type: string;
  channelId?: number;
  userId?: number;
  /**
   * For trigger types: exactly the `event` a chat function receives. Its own keys stay as given (camelCase:
   * `user`, `userHasActiveSession`, ...); the resources under them are recorded in the SDK's wire format
   * (snake_case, see `toWire`), whichever shape the caller built them in.
   */
  data: Record<string, unknown>;
  /** From `@EventDepth()`: 0 for users and API clients, n+1 for actions of a function run at depth n. */
  depth: number;
}

/** Stream of one channel's chat events. */
export const channelStream = (channelId: number) => `chat-channel-${channelId}`;
/** Stream of one user's chat events that belong to no channel (`user.created`, `user.updated`, ...). */
export const userStream = (userId: number) => `chat-user-${userId}`;
/** Stream of an application's chat events that belong to neither a channel nor a user. */
export const applicationStream = (applicationId: number) => `chat-app-${applicationId}`;

/** The stream an event is appended to: its channel's, else its user's, else its application's. */
export function streamOf(e: Pick<ChatEventInput, 'applicationId' | 'channelId' | 'userId'>): string {
  if (e.channelId !== undefined) return channelStream(e.channelId);
  if (e.userId !== undefined) return userStream(e.userId);
  return applicationStream(e.applicationId);
}

/** Event data in the wire format: top-level (trigger payload) keys untouched, the resources under them snake_case. */
export function wireData(data: Record<string, unknown>, memo?: Map<object, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined) out[k] = toWire(v, memo);
  return out;
}

/**
 * Records chat events in the caller's transaction: appends each to the event store (one stream per channel, else
 * per user, else per application) and enqueues its `chat.event.recorded.v1` envelope in the outbox (partition key:
 * the channel, else the application) in the same statement, so the state change, the events and their publication
 * commit or roll back together.
 */
@Injectable()
export class ChatEventRecorder {
  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus,
  ) {}

  async record(manager: EntityManager, e: ChatEventInput, opts: PublishOptions = {}): Promise<{ eventId: string }> {
    const [eventId] = await this.recordAll(manager, [e], opts);
    return { eventId };
  }

  /**
   * Records several events in order (e.g. a batch of messages and the notifications they cause) with one statement:
   * each event goes to the end of its stream and its envelope to the outbox, in the given order, so each key's
   * envelopes keep their order. Returns the event ids.
   */
  async recordAll(manager: EntityManager, events: ChatEventInput[], opts: PublishOptions = {}): Promise<string[]> {
    // The events of a batch share resources (a message's channel and sender): each is converted once.
    const memo = new Map<object, unknown>();
    const rows = events.map((e) => {
      const payload: ChatEventPayload = { applicationId: e.applicationId, type: e.type, depth: e.depth, data: wireData(e.data, memo) };
      if (e.channelId !== undefined) payload.channelId = e.channelId;
      if (e.userId !== undefined) payload.userId = e.userId;
      const key = e.channelId !== undefined ? Keys.channel(e.applicationId, e.channelId) : Keys.application(e.applicationId);
      const envelope = this.bus.envelope('chat.event.recorded.v1', payload, { ...opts, key });
      const event: NewEvent = {
        type: e.type,
        // The envelope's (validated) payload itself: the event store then writes it once for both (see appendAny).
        data: envelope.payload as unknown as Record<string, unknown>,
        metadata: { eventId: envelope.eventId, correlationId: envelope.correlationId, occurredAt: envelope.occurredAt },
      };
      return { streamId: streamOf(e), event, envelope };
    });
    await this.store.appendAny(manager, rows);
    return rows.map((r) => r.envelope.eventId);
  }
}
