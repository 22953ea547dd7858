import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ChatEventPayload, Envelope, Keys } from '@chatfn/contracts';
import { EventStore, NewEvent } from '@chatfn/event-store';
import { MessageBus } from '@chatfn/messaging';
import { applicationStream, ChatEventInput, channelStream } from '../shared/chat-event.recorder';

/**
 * `ChatEventRecorder.recordAll` in three statements instead of three per event: one append per stream (with its
 * lock) and one outbox insert for all envelopes, in the caller's transaction. Same streams, keys, envelope and
 * metadata as `ChatEventRecorder.record` — the hot path (a message and its notifications) uses it.
 * TODO(chat-A): fold into `ChatEventRecorder.recordAll` and delete this class.
 */
@Injectable()
export class ChatEventBatch {
  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus,
  ) {}

  async recordAll(manager: EntityManager, events: ChatEventInput[]): Promise<void> {
    if (events.length === 0) return;
    const envelopes: Envelope[] = [];
    const byStream = new Map<string, NewEvent[]>();
    for (const e of events) {
      const payload: ChatEventPayload = { applicationId: e.applicationId, type: e.type, depth: e.depth, data: e.data };
      if (e.channelId !== undefined) payload.channelId = e.channelId;
      if (e.userId !== undefined) payload.userId = e.userId;
      const key = e.channelId !== undefined ? Keys.channel(e.applicationId, e.channelId) : Keys.application(e.applicationId);
      const envelope = this.bus.envelope('chat.event.recorded.v1', payload, { key });
      envelopes.push(envelope);
      const stream = e.channelId !== undefined ? channelStream(e.channelId) : applicationStream(e.applicationId);
      const list = byStream.get(stream) ?? [];
      list.push({
        type: e.type,
        data: payload,
        metadata: { eventId: envelope.eventId, correlationId: envelope.correlationId, occurredAt: envelope.occurredAt },
      });
      byStream.set(stream, list);
    }
    for (const [stream, list] of byStream) await this.store.append(manager, stream, 'any', list);
    await this.store.enqueue(manager, envelopes);
  }
}
