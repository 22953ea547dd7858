import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ChatEventPayload } from '@chatfn/contracts';
import { ChatfnConfig } from '@chatfn/config';
import { MessageBus, Subscription } from '@chatfn/messaging';
import { fromWire } from '../../channels/wire-format';
import { GatewayServer } from '../gateway.server';
import { StompConnection } from '../stomp/stomp-connection';
import { AccessChange, ChannelAccess } from '../stompx/channel-access';
import { channelTopics, stompChannel, stompCurrentUser, stompMessage, stompReadReceipt, stompUser, Topics } from '../stompx/destinations';
import { TopicHub } from '../topic-hub';

type Json = Record<string, unknown>;

/** One StompX event to publish: topic destination, event type and resource. */
export interface LiveEvent {
  topic: string;
  type: string;
  resource: unknown;
}

/**
 * Chat event → the StompX events the `@chatkitty/core` client listens for (research/stompx-protocol.md §5.2).
 * Pure, so it is unit-tested without a bus.
 */
export function liveEventsOf(e: ChatEventPayload): LiveEvent[] {
  // Event data is in the Platform API's wire format (snake_case resources); the StompX mappers read camelCase.
  const d = fromWire<Json>(e.data);
  const cid = e.channelId;
  const out: LiveEvent[] = [];
  const user = d.user as Json | undefined;
  const channel = d.channel as Json | undefined;
  switch (e.type) {
    case 'user.sent.message': {
      const m = d.message as Json;
      if (cid === undefined || !m) break;
      out.push({ topic: Topics.channel(cid, 'messages'), type: m.parentId !== undefined ? 'thread.message.created' : 'channel.message.created', resource: stompMessage(m) });
      break;
    }
    case 'system.sent.message':
      if (cid !== undefined && d.message) out.push({ topic: Topics.channel(cid, 'messages'), type: 'channel.message.created', resource: stompMessage(d.message as Json) });
      break;
    case 'message.updated':
    case 'message.deleted':
      if (cid !== undefined && d.message) {
        out.push({ topic: Topics.channel(cid, 'messages'), type: e.type === 'message.updated' ? 'channel.message.updated' : 'channel.message.deleted', resource: stompMessage(d.message as Json) });
      }
      break;
    case 'user.received.notification': {
      const n = d.notification as Json;
      if (!user || !n) break;
      const data: Json = { ...(n.data as Json), recipient: stompUser(user) };
      if (data.message) data.message = stompMessage(data.message as Json);
      const resource: Json = { ...n, data, channel: n.channel ? stompChannel(n.channel as Json) : null, readTime: n.readTime ?? null };
      out.push({ topic: Topics.user(Number(user.id), 'notifications'), type: 'user.notification.created', resource });
      break;
    }
    case 'user.read.message': {
      const m = d.message as Json;
      const r = d.receipt as Json;
      if (cid === undefined || !m || !user) break;
      const receipt = stompReadReceipt(user, String(r?.createdTime ?? new Date().toISOString()), Number(m.id));
      out.push({ topic: Topics.channel(cid, 'readReceipts'), type: 'message.read_receipt.created', resource: receipt });
      out.push({ topic: Topics.user(Number(user.id), 'readReceipts'), type: 'message.read_receipt.created', resource: receipt });
      const author = (m.user as Json | undefined)?.id;
      if (author !== undefined && Number(author) !== Number(user.id)) {
        out.push({ topic: Topics.user(Number(author), 'readReceipts'), type: 'message.read_receipt.created', resource: receipt });
      }
      break;
    }
    case 'user.triggered.event':
    case 'system.triggered.event': {
      const ev = d.event as Json;
      if (cid === undefined || !ev) break;
      const resource: Json = { type: ev.type, properties: ev.properties ?? {}, _relays: { channel: `/application/channels/${cid}.relay` } };
      if (user) resource.user = stompUser(user);
      out.push({ topic: Topics.channel(cid, 'events'), type: 'channel.event.triggered', resource });
      break;
    }
    case 'user.started.chat_session':
      if (cid !== undefined && user) out.push({ topic: Topics.channel(cid, 'participants'), type: 'channel.participant.active', resource: stompUser(user) });
      break;
    case 'channel.member.added':
      if (cid !== undefined && user && channel) {
        out.push({ topic: Topics.channel(cid, 'members'), type: 'channel.member.joined', resource: stompUser(user) });
        out.push({ topic: Topics.user(Number(user.id), 'channels'), type: 'user.channel.joined', resource: stompChannel(channel) });
      }
      break;
    case 'channel.member.removed':
      if (cid !== undefined && user && channel) {
        out.push({ topic: Topics.channel(cid, 'members'), type: 'channel.member.left', resource: stompUser(user) });
        out.push({ topic: Topics.user(Number(user.id), 'channels'), type: 'me.channel.left', resource: stompChannel(channel) });
      }
      break;
    case 'channel.updated':
      if (cid !== undefined && channel) out.push({ topic: Topics.channel(cid, 'self'), type: 'channel.self.updated', resource: stompChannel(channel) });
      break;
    case 'channel.deleted':
      if (cid !== undefined && channel) out.push({ topic: Topics.channel(cid, 'self'), type: 'channel.self.deleted', resource: stompChannel(channel) });
      break;
    case 'user.updated':
      if (user) out.push({ topic: Topics.user(Number(user.id), 'self'), type: 'user.self.updated', resource: stompCurrentUser(user) });
      break;
  }
  return out;
}

/**
 * Live delivery across gateway instances: every instance consumes `chat.event.recorded.v1` in its own consumer
 * group (so each sees every event) and fans each event out to its local subscribers through the `TopicHub`.
 */
@Injectable()
export class LiveEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GatewayLive');
  private subscription?: Subscription;
  /** Events fanned out (for diagnostics and the benchmark). */
  delivered = 0;

  constructor(
    private readonly bus: MessageBus,
    private readonly hub: TopicHub,
    private readonly config: ChatfnConfig,
    private readonly access: ChannelAccess,
    private readonly gateway: GatewayServer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      'chat.event.recorded.v1',
      `gateway-${this.config.instanceId}`,
      async (env) => {
        // Cached access goes before the event is delivered: a client that saw it cannot type into the channel.
        const change = this.access.apply(env.payload);
        // No subscriber in this process (an API-only instance, a quiet gateway): nothing to render.
        const live = this.hub.size > 0 ? liveEventsOf(env.payload) : [];
        for (const ev of live) {
          try {
            this.delivered += this.hub.publish(env.payload.applicationId, ev.topic, ev.type, ev.resource);
          } catch (e) {
            // A delivery failure must never block the partition: log and go on.
            this.logger.error(`fan-out of ${env.payload.type} failed: ${String(e)}`);
          }
        }
        // After delivery (a deleted channel's subscribers get `channel.self.deleted` first).
        if (change?.lostBy !== undefined) this.dropSubscriptions(change);
        if (env.payload.type === 'user.deleted') this.endSessionsOf(env.payload);
      },
      { fromBeginning: false, concurrency: 32 },
    );
  }

  /**
   * A deleted user's connections on this instance get an `AccessDeniedError` (which the client does not retry) and
   * close; closing ends their sessions and drops their cached channel grants, as any disconnect does.
   */
  private endSessionsOf(e: ChatEventPayload): void {
    const userId = Number(e.userId ?? (e.data as { user?: { id?: unknown } } | undefined)?.user?.id);
    if (!Number.isSafeInteger(userId)) return;
    for (const conn of [...this.gateway.all]) {
      const s = conn.session;
      if (s && s.applicationId === e.applicationId && s.userId === userId) conn.revoke('The user was deleted');
    }
  }

  /** Those who lost the channel stop receiving its topics (and their chat sessions in it end). */
  private dropSubscriptions({ applicationId, channelId, lostBy }: AccessChange): void {
    const topics = new Set(channelTopics(channelId));
    const affected = new Set<StompConnection>();
    for (const topic of topics) {
      for (const sub of this.hub.subscribersOf(topic)) {
        if (!(sub instanceof StompConnection) || sub.applicationId !== applicationId) continue;
        if (lostBy === 'everyone' || sub.session?.userId === lostBy) affected.add(sub);
      }
    }
    for (const conn of affected) conn.dropTopics(topics);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
  }
}
