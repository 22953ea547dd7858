import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiException } from '@chatfn/platform';
import { ChannelsService } from '../../channels/channels.service';
import { CHANNEL_COLUMNS, channelRes, ChannelRes, iso, Json, userRes, UserRes } from '../../channels/resources';
import { MessagesService } from '../../messages/messages.service';
import { ChatEventRecorder } from '../../shared/chat-event.recorder';
import { UserCommandsService } from '../../users/user-commands.service';
import { EphemeralEventsConsumer } from '../live/ephemeral-events.consumer';
import { ChannelAccess } from './channel-access';
import { GatewaySessionsService } from '../sessions/gateway-sessions.service';
import { SessionAuthService } from '../sessions/session-auth.service';
import { SessionContext, StompConnection, StompXError, StompXHandler, TaggedEvent } from '../stomp/stomp-connection';
import {
  matchDestination,
  parseTopic,
  stompChannel,
  stompCurrentUser,
  stompMessage,
  stompPage,
  stompReadReceipt,
  stompUser,
  Topics,
} from './destinations';
import {
  CreateChannelActionSchema,
  EditMessageActionSchema,
  KeystrokesActionSchema,
  parseBody,
  SendMessageActionSchema,
  TriggerEventActionSchema,
  UpdateCurrentUserActionSchema,
} from './stompx.schema';

const PAGE = 25;
/** Typing stops this long after the last keystrokes. */
const TYPING_MS = 5_000;

/** Messages of channel `$cid` the user `$uid` has not read: not their own and without their read receipt. */
/**
 * Reading a whole channel ($1) as a user ($2): a receipt for each message of others. Receipts already there are
 * skipped by the primary key (ON CONFLICT), not by a NOT EXISTS over the table being written. With statistics taken
 * while that table was nearly empty, PostgreSQL planned the anti-join as a sequential scan of the receipts per message,
 * and each scan read every receipt the statement had inserted so far. That was quadratic: 72 s for a first read of a
 * 100,000-message channel, 1.4 s this way (`channel-read.int-spec.ts`).
 */
export const CHANNEL_READ_SQL = `
  INSERT INTO message_read_receipts (message_id, user_id)
  SELECT m.id, $2 FROM messages m WHERE m.channel_id = $1 AND m.user_id IS DISTINCT FROM $2
  ON CONFLICT DO NOTHING`;

const unreadIn = (m: string, uid: string) =>
  `${m}.user_id IS DISTINCT FROM ${uid} AND NOT EXISTS (SELECT 1 FROM message_read_receipts r WHERE r.message_id = ${m}.id AND r.user_id = ${uid})`;

const unsupported = (what: string) =>
  new StompXError('UnsupportedOperationError', `${what} is not supported by this chatfn gateway (see the README for the supported StompX operations)`);
const notFound = (what: string, id: number | string) => new StompXError('ResourceNotFoundError', `${what} with id ${id} not found`);

/**
 * The StompX operations of `@chatkitty/core` mapped onto the chat platform's services: relays (one-shot reads),
 * actions (commands, answered with receipt-tagged result events) and topic subscriptions (authorised per user and
 * channel; subscribing a channel's `self` topic starts a chat session). Every write goes through the same services as
 * the Platform API (so the send_message hook, notifications and chat events apply).
 */
@Injectable()
export class StompXService implements StompXHandler, OnApplicationShutdown {
  private readonly logger = new Logger('Gateway');
  private readonly typing = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly db: DataSource,
    private readonly auth: SessionAuthService,
    private readonly sessions: GatewaySessionsService,
    private readonly channels: ChannelsService,
    private readonly messages: MessagesService,
    private readonly userCommands: UserCommandsService,
    private readonly recorder: ChatEventRecorder,
    private readonly ephemeral: EphemeralEventsConsumer,
    /** Channels a connection was authorised for (topic subscriptions of a chat session come in elevens). */
    private readonly access: ChannelAccess,
  ) {
    // A typist who lost the channel stops typing in it at once (not 5 s later).
    access.onRevoked((holder, channelId) => {
      const ctx = holder.session;
      if (ctx && holder instanceof StompConnection) this.stopTyping(ctx as SessionContext, channelId, holder);
    });
  }

  onApplicationShutdown(): void {
    for (const t of this.typing.values()) clearTimeout(t);
    this.typing.clear();
  }

  log(message: string): void {
    this.logger.error(message);
  }

  connect(apiKey: string, headers: Record<string, string>): Promise<SessionContext> {
    return this.auth.connect(apiKey, headers);
  }

  async disconnected(ctx: SessionContext, conn: StompConnection): Promise<void> {
    this.access.forget(conn);
    // Whoever was typing stops now (the others' indicators clear at once).
    const prefix = `${ctx.userSessionId}:`;
    for (const k of [...this.typing.keys()]) if (k.startsWith(prefix)) this.stopTyping(ctx, Number(k.slice(prefix.length)), conn);
    await this.sessions.end(ctx.userSessionId);
  }

  // ---- topics ---------------------------------------------------------------------------------------------------

  async subscribed(ctx: SessionContext, destination: string, conn: StompConnection): Promise<boolean> {
    const t = parseTopic(destination);
    if (!t) return false;
    if (t.kind === 'user') return t.userId === ctx.userId;
    if (!(await this.canAccess(ctx, t.channelId, conn))) return false;
    if (t.topic === 'self') await this.startChatSession(ctx, t.channelId);
    return true;
  }

  async unsubscribed(ctx: SessionContext, destination: string): Promise<void> {
    const t = parseTopic(destination);
    if (t?.kind === 'channel' && t.topic === 'self') await this.sessions.endChat(ctx.userSessionId, t.channelId);
  }

  /** A chat session starts when the client subscribes a channel's `self` topic: `user.started.chat_session`. */
  private async startChatSession(ctx: SessionContext, channelId: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (!(await this.sessions.startChat(tx, ctx.applicationId, ctx.userSessionId, ctx.userId, channelId))) return;
      const [channel, user, counts] = await Promise.all([
        this.channels.get(ctx.applicationId, channelId, tx),
        this.user(ctx, tx),
        tx.query(
          `SELECT count(*)::int AS total, count(*) FILTER (WHERE ${unreadIn('m', '$2')})::int AS unread
             FROM messages m WHERE m.channel_id = $1 AND m.parent_id IS NULL`,
          [channelId, ctx.userId],
        ) as Promise<{ total: number; unread: number }[]>,
      ]);
      await this.recorder.record(tx, {
        applicationId: ctx.applicationId,
        type: 'user.started.chat_session',
        channelId,
        userId: ctx.userId,
        depth: 0,
        data: { user, channel, channelUnread: counts[0].unread > 0, channelMessagesCount: counts[0].total },
      });
    });
  }

  private async canAccess(ctx: SessionContext, channelId: number, conn?: StompConnection): Promise<boolean> {
    if (conn && this.access.has(conn, channelId)) return true;
    const generation = this.access.generation();
    const rows: { ok: boolean }[] = await this.db.query(
      `SELECT (c.type = 'PUBLIC' OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = $3)) AS ok
         FROM channels c WHERE c.id = $1 AND c.application_id = $2`,
      [channelId, ctx.applicationId, ctx.userId],
    );
    const ok = Boolean(rows[0]?.ok);
    if (ok && conn) this.access.grant(conn, channelId, generation);
    return ok;
  }

  /** `ResourceNotFoundError` unless the user may see the channel (cached per connection: no query on the hot path). */
  private async visible(ctx: SessionContext, channelId: number, conn: StompConnection): Promise<void> {
    if (!(await this.canAccess(ctx, channelId, conn))) throw notFound('Channel', channelId);
  }

  /** The channel if the user may see it (PUBLIC or member), else `ResourceNotFoundError`. */
  private async channel(ctx: SessionContext, channelId: number): Promise<ChannelRes> {
    if (!(await this.canAccess(ctx, channelId))) throw notFound('Channel', channelId);
    return this.channels.get(ctx.applicationId, channelId);
  }

  private async user(ctx: SessionContext, db: Pick<DataSource, 'query'> = this.db): Promise<UserRes> {
    const rows: Json[] = await db.query(`SELECT * FROM users WHERE id = $1 AND deleted_time IS NULL`, [ctx.userId]);
    if (!rows[0]) throw new StompXError('AccessDeniedError', 'The session user no longer exists');
    return userRes(rows[0]);
  }

  /** A message of a channel the user may see. */
  private async message(ctx: SessionContext, id: number): Promise<Json & { id: number; channelId: number }> {
    const m = await this.messages.get(ctx.applicationId, id).catch((e) => {
      throw e instanceof ApiException ? notFound('Message', id) : e;
    });
    if (!(await this.canAccess(ctx, m.channelId))) throw notFound('Message', id);
    return m;
  }

  // ---- relays ---------------------------------------------------------------------------------------------------

  async relay(ctx: SessionContext, destination: string, params: Record<string, string>): Promise<unknown> {
    const d = matchDestination(destination);
    if (!d) throw unsupported(`Relay ${destination}`);
    const id = d.id ?? 0;
    const page = Math.max(0, Math.min(10_000, Number(d.query.get('page') ?? 0) || 0));
    const app = ctx.applicationId;
    switch (d.key) {
      case 'user.relay':
        return stompCurrentUser(await this.user(ctx));
      case 'user.write_file_access_grant.relay':
      case 'user.read_file_access_grant.relay':
        return { grant: randomBytes(18).toString('base64url') };
      case 'user/channels.relay':
        return this.channelPage(ctx, d.key, page, params.subscribable === 'true' ? 'member' : 'visible', params.name);
      case 'user/joinable_channels.relay':
        return this.channelPage(ctx, d.key, page, 'joinable', params.name);
      case 'user/unread_channels.relay':
        return this.channelPage(ctx, d.key, page, 'unread', params.name);
      case 'user/channels_count.relay': {
        const where = params.unread === 'true' ? this.channelFilter('unread') : this.channelFilter('member');
        const typed = params.type ? ` AND c.type = $3` : '';
        const rows: { n: number }[] = await this.db.query(
          `SELECT count(*)::int AS n FROM channels c WHERE c.application_id = $1 AND ${where}${typed}`,
          params.type ? [app, ctx.userId, params.type] : [app, ctx.userId],
        );
        return { count: rows[0].n };
      }
      case 'user/unread_messages_count.relay': {
        const rows: { n: number }[] = await this.db.query(
          `SELECT count(*)::int AS n FROM messages m
            WHERE m.application_id = $1 AND m.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = $2) AND ${unreadIn('m', '$2')}`,
          [app, ctx.userId],
        );
        return { count: rows[0].n };
      }
      case 'user/messages.relay':
        return this.messagePage(
          `m.application_id = $1 AND m.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = $2)`,
          [app, ctx.userId],
          '/application/user/messages.relay',
          d.query,
        );
      case 'user/contacts.relay':
      case 'user/contacts_count.relay': {
        const args: unknown[] = [app, ctx.userId];
        let where = `u.application_id = $1 AND u.deleted_time IS NULL AND u.id <> $2`;
        if (params.name) where += ` AND u.name = $${args.push(params.name)}`;
        if (params.displayName) where += ` AND u.display_name ILIKE $${args.push(`%${params.displayName}%`)}`;
        if (params.online !== undefined) where += ` AND u.presence_online = $${args.push(params.online === 'true')}`;
        if (d.key === 'user/contacts_count.relay') {
          const rows: { n: number }[] = await this.db.query(`SELECT count(*)::int AS n FROM users u WHERE ${where}`, args);
          return { count: rows[0].n };
        }
        return this.userPage(`FROM users u WHERE ${where}`, args, `/application/${d.key}`, page);
      }
      case 'user/block_list_items.relay':
        return stompPage('items', [], `/application/${d.key}`);
      case 'channels/:id.relay':
        return stompChannel(await this.channel(ctx, id));
      case 'channels/:id/messages.relay': {
        await this.channel(ctx, id);
        const args: unknown[] = [app, id];
        let where = `m.application_id = $1 AND m.channel_id = $2`;
        if (params.mainThread !== 'false') where += ` AND m.parent_id IS NULL`;
        if (params.type === 'FILE') where += ` AND m.type IN ('FILE', 'SYSTEM_FILE')`;
        return this.messagePage(where, args, `/application/channels/${id}/messages.relay`, d.query);
      }
      case 'channels/:id/messagesCount.relay': {
        await this.channel(ctx, id);
        const rows: { n: number }[] = await this.db.query(
          `SELECT count(*)::int AS n FROM messages m WHERE m.channel_id = $1 AND m.parent_id IS NULL${params.unread === 'true' ? ` AND ${unreadIn('m', '$2')}` : ' AND $2::bigint IS NOT NULL'}`,
          [id, ctx.userId],
        );
        return { count: rows[0].n };
      }
      case 'channels/:id/unread.relay': {
        await this.channel(ctx, id);
        const rows: unknown[] = await this.db.query(`SELECT 1 FROM messages m WHERE m.channel_id = $1 AND ${unreadIn('m', '$2')} LIMIT 1`, [id, ctx.userId]);
        return { exists: rows.length > 0 };
      }
      case 'channels/:id/members.relay':
      case 'channels/:id/moderators.relay': {
        await this.channel(ctx, id);
        const args: unknown[] = [id];
        let where = `cm.channel_id = $1 AND u.deleted_time IS NULL${d.key.includes('moderators') ? ' AND cm.moderator' : ''}`;
        if (params.displayName) where += ` AND u.display_name ILIKE $${args.push(`%${params.displayName}%`)}`;
        return this.userPage(`FROM channel_members cm JOIN users u ON u.id = cm.user_id WHERE ${where}`, args, `/application/channels/${id}/members.relay?sort=`, page, 'u.display_name, u.id');
      }
      case 'channels/:id/lastReceivedMessage.relay': {
        const channel = await this.channel(ctx, id);
        if (!channel.lastReceivedMessage) throw new StompXError('ResourceNotFoundError', `Channel ${id} has no messages`);
        return stompMessage(await this.messages.get(app, Number((channel.lastReceivedMessage as Json).id)));
      }
      case 'channels/:id/lastReadMessage.relay': {
        await this.channel(ctx, id);
        const rows: Json[] = await this.db.query(
          `SELECT m.id FROM message_read_receipts r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = r.user_id
            WHERE m.channel_id = $1 AND u.name = $2 ORDER BY m.id DESC LIMIT 1`,
          [id, params.username ?? ctx.username],
        );
        if (!rows[0]) throw new StompXError('ResourceNotFoundError', `No read message in channel ${id}`);
        return stompMessage(await this.messages.get(app, Number(rows[0].id)));
      }
      case 'channels/:id/context.relay':
        await this.channel(ctx, id);
        return { startCursor: null, endCursor: null, readBy: {} };
      case 'channels/:id/threads.relay':
      case 'channels/:id/calls.relay':
      case 'channels/:id/blockRecords.relay':
        await this.channel(ctx, id);
        return stompPage(d.key.includes('threads') ? 'threads' : d.key.includes('calls') ? 'calls' : 'records', [], destination);
      case 'messages/:id.relay':
        return stompMessage(await this.message(ctx, id));
      case 'messages/:id/channel.relay':
        return stompChannel(await this.channel(ctx, (await this.message(ctx, id)).channelId));
      case 'messages/:id/repliesCount.relay':
        return { count: Number((await this.message(ctx, id)).repliesCount ?? 0) };
      case 'messages/:id/replies.relay': {
        const m = await this.message(ctx, id);
        return this.messagePage(`m.application_id = $1 AND m.parent_id = $2`, [app, m.id], `/application/messages/${id}/replies.relay`, d.query);
      }
      case 'messages/:id/readReceipts.relay': {
        await this.message(ctx, id);
        const { items, total } = await this.messages.readReceipts(app, id, { page, size: PAGE });
        const receipts = items.map((r) => stompReadReceipt(r.user as Json, String(r.createdTime), id));
        return stompPage('receipts', receipts, `/application/messages/${id}/readReceipts.relay`, {
          total,
          next: (page + 1) * PAGE < total ? `/application/messages/${id}/readReceipts.relay?page=${page + 1}` : undefined,
        });
      }
      case 'messages/:id/reactions.relay':
      case 'messages/:id/reports.relay':
        await this.message(ctx, id);
        return stompPage(d.key.includes('reactions') ? 'reactions' : 'reports', [], destination);
      case 'users/:id.relay': {
        const rows: Json[] = await this.db.query(`SELECT * FROM users WHERE id = $1 AND application_id = $2 AND deleted_time IS NULL`, [id, app]);
        if (!rows[0]) throw notFound('User', id);
        return stompUser(userRes(rows[0]));
      }
      case 'users/:id/channel_member.relay': {
        const channelId = Number(params.channelId);
        const rows: unknown[] = Number.isSafeInteger(channelId)
          ? await this.db.query(`SELECT 1 FROM channel_members WHERE channel_id = $1 AND user_id = $2 AND application_id = $3`, [channelId, id, app])
          : [];
        return { exists: rows.length > 0 };
      }
      default:
        throw unsupported(`Relay ${destination}`);
    }
  }

  private channelFilter(which: 'member' | 'visible' | 'joinable' | 'unread'): string {
    const member = `EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = $2)`;
    switch (which) {
      case 'member':
        return member;
      case 'visible':
        return `(c.type = 'PUBLIC' OR ${member})`;
      case 'joinable':
        return `c.type = 'PUBLIC' AND NOT ${member}`;
      case 'unread':
        return `${member} AND EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = c.id AND ${unreadIn('m', '$2')})`;
    }
  }

  private async channelPage(ctx: SessionContext, key: string, page: number, which: 'member' | 'visible' | 'joinable' | 'unread', name?: string): Promise<Json> {
    const args: unknown[] = [ctx.applicationId, ctx.userId];
    let where = `c.application_id = $1 AND ${this.channelFilter(which)}`;
    if (name) where += ` AND c.name = $${args.push(name)}`;
    const [rows, count] = await Promise.all([
      this.db.query(`SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE ${where} ORDER BY c.id LIMIT ${PAGE + 1} OFFSET ${page * PAGE}`, args) as Promise<Json[]>,
      this.db.query(`SELECT count(*)::int AS n FROM channels c WHERE ${where}`, args) as Promise<{ n: number }[]>,
    ]);
    const relay = `/application/${key}`;
    return stompPage('channels', rows.slice(0, PAGE).map((r) => stompChannel(channelRes(r))), relay, {
      total: count[0].n,
      next: rows.length > PAGE ? `${relay}?page=${page + 1}` : undefined,
    });
  }

  private async userPage(from: string, args: unknown[], relay: string, page: number, order = 'u.id'): Promise<Json> {
    const [rows, count] = await Promise.all([
      this.db.query(`SELECT u.* ${from} ORDER BY ${order} LIMIT ${PAGE + 1} OFFSET ${page * PAGE}`, args) as Promise<Json[]>,
      this.db.query(`SELECT count(*)::int AS n ${from}`, args) as Promise<{ n: number }[]>,
    ]);
    const sep = relay.includes('?') ? '&' : '?';
    return stompPage('users', rows.slice(0, PAGE).map((r) => stompUser(userRes(r))), relay, {
      total: count[0].n,
      next: rows.length > PAGE ? `${relay}${sep}page=${page + 1}` : undefined,
    });
  }

  /** Newest first; the next page's relay carries the cursor (`?before=<id>`). */
  private async messagePage(where: string, args: unknown[], relay: string, query: URLSearchParams): Promise<Json> {
    const before = Number(query.get('before'));
    const c = Number.isSafeInteger(before) && before > 0 ? before : undefined;
    const page = await this.messages.page(where, args, { size: PAGE, next: c });
    return stompPage('messages', page.items.map(stompMessage), relay, {
      total: page.total,
      next: page.next !== undefined ? `${relay}?before=${page.next}` : undefined,
    });
  }

  // ---- actions --------------------------------------------------------------------------------------------------

  async action(ctx: SessionContext, destination: string, body: unknown, conn: StompConnection): Promise<TaggedEvent[]> {
    const d = matchDestination(destination);
    if (!d) throw unsupported(`Action ${destination}`);
    const id = d.id ?? 0;
    const app = ctx.applicationId;
    const userTopic = (t: 'self' | 'channels' | 'messages') => Topics.user(ctx.userId, t);
    switch (d.key) {
      case 'user.update': {
        const input = parseBody(UpdateCurrentUserActionSchema, body);
        await this.userCommands.update(app, ctx.userId, { display_name: input.displayName, properties: input.properties }, 0);
        return [{ topic: userTopic('self'), type: 'user.self.updated', resource: stompCurrentUser(await this.user(ctx)) }];
      }
      case 'user.create_channel': {
        const input = parseBody(CreateChannelActionSchema, body);
        const settings: { user_created_channels: string }[] = await this.db.query(`SELECT user_created_channels FROM applications WHERE id = $1`, [app]);
        if (settings[0]?.user_created_channels !== 'ENABLED') {
          throw new StompXError('AccessDeniedError', 'Users may not create channels: the application setting user_created_channels is DISABLED');
        }
        const members = (input.members ?? []).map((m) => ('id' in m ? { id: Number(m.id) } : { username: String(m.username) }));
        const created = await this.channels.create(
          app,
          { type: input.type, name: input.name, display_name: input.displayName, creator: { id: ctx.userId }, members, properties: input.properties } as never,
          0,
        );
        return [{ topic: userTopic('channels'), type: 'user.channel.created', resource: stompChannel(created) }];
      }
      case 'channels/:id.join': {
        const channel = await this.channel(ctx, id);
        if (channel.type !== 'PUBLIC') throw new StompXError('ChannelNotPubliclyJoinableError', `Channel ${id} is not public`);
        const joined = await this.channels.addMember(app, id, { id: ctx.userId }, 0);
        return [{ topic: userTopic('channels'), type: 'user.channel.joined', resource: stompChannel(joined) }];
      }
      case 'channels/:id.leave': {
        await this.channel(ctx, id);
        const left = await this.channels.removeMember(app, id, ctx.userId, 0);
        this.access.revoke(conn, id);
        return [{ topic: userTopic('channels'), type: 'user.channel.left', resource: stompChannel(left) }];
      }
      case 'channels/:id.message':
        return this.send(ctx, id, body, conn);
      case 'messages/:id.reply': {
        const parent = await this.message(ctx, id);
        return this.send(ctx, parent.channelId, body, conn, parent.id);
      }
      case 'channels/:id.keystrokes': {
        const { keys } = parseBody(KeystrokesActionSchema, body);
        await this.visible(ctx, id, conn);
        this.keystrokes(ctx, id, keys, conn);
        return [];
      }
      case 'channels/:id.triggerEvent': {
        const event = parseBody(TriggerEventActionSchema, body);
        const channel = await this.channel(ctx, id);
        await this.db.transaction(async (tx) => {
          await this.recorder.record(tx, {
            applicationId: app,
            type: 'user.triggered.event',
            channelId: id,
            userId: ctx.userId,
            depth: 0,
            data: { user: await this.user(ctx, tx), channel, event },
          });
        });
        return [];
      }
      case 'channels/:id.read': {
        await this.channel(ctx, id);
        await this.db.query(CHANNEL_READ_SQL, [id, ctx.userId]);
        return [];
      }
      case 'messages/:id.read':
        await this.read(ctx, id);
        return [];
      case 'messages/:id.edit': {
        const { body: text } = parseBody(EditMessageActionSchema, body);
        await this.ownMessage(ctx, id);
        const m = await this.messages.update(app, id, { body: text }, 0);
        return [{ topic: userTopic('messages'), type: 'user.message.updated', resource: stompMessage(m) }];
      }
      case 'messages/:id.delete':
      case 'messages/:id.deleteForMe': {
        await this.ownMessage(ctx, id);
        const m = await this.messages.delete(app, id, 0);
        return [{ topic: userTopic('messages'), type: 'user.message.deleted', resource: stompMessage(m) }];
      }
      default:
        throw unsupported(`Action ${destination}`);
    }
  }

  /** Sends through `MessagesService.send`: the send_message hook, notifications and `user.sent.message` apply. */
  private async send(ctx: SessionContext, channelId: number, body: unknown, conn: StompConnection, parentId?: number): Promise<TaggedEvent[]> {
    const input = parseBody(SendMessageActionSchema, body);
    // Visibility, cached per connection; `send` itself checks the channel and the membership a non-public one needs.
    await this.visible(ctx, channelId, conn);
    const message = await this.messages.send(
      ctx.applicationId,
      channelId,
      input.type === 'TEXT'
        ? { type: 'TEXT', body: input.body, groupTag: input.groupTag, properties: input.properties, user: { id: ctx.userId } }
        : {
            type: 'FILE',
            file: { type: 'EXTERNAL', url: input.file.url, name: input.file.name, contentType: input.file.contentType, size: input.file.size },
            groupTag: input.groupTag,
            properties: input.properties,
            user: { id: ctx.userId },
          },
      0,
      parentId,
    );
    // The result travels on the user's `messages` topic (always subscribed); the channel copy comes from the bus to
    // every subscriber of the channel, the sender included, exactly once.
    return [{ topic: Topics.user(ctx.userId, 'messages'), type: 'user.message.created', resource: stompMessage(message) }];
  }

  private async ownMessage(ctx: SessionContext, id: number): Promise<void> {
    const m = await this.message(ctx, id);
    if (Number((m.user as Json | undefined)?.id) !== ctx.userId) throw new StompXError('AccessDeniedError', `Message ${id} was not sent by ${ctx.username}`);
  }

  /** A read receipt (once per user and message) and its `user.read.message` event. */
  private async read(ctx: SessionContext, messageId: number): Promise<void> {
    const message = await this.message(ctx, messageId);
    await this.db.transaction(async (tx) => {
      const rows: { created_time: Date }[] = await tx.query(
        `INSERT INTO message_read_receipts (message_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING created_time`,
        [messageId, ctx.userId],
      );
      if (!rows[0]) return;
      const user = await this.user(ctx, tx);
      await this.recorder.record(tx, {
        applicationId: ctx.applicationId,
        type: 'user.read.message',
        channelId: message.channelId,
        userId: ctx.userId,
        depth: 0,
        data: { user, message, receipt: { user, createdTime: iso(rows[0].created_time) } },
      });
    });
  }

  /**
   * Keystrokes are ephemeral (not stored, no chat event): fanned out to the subscribers of the channel's `keystrokes`
   * topic on every gateway instance (through the bus), with `thread.typing.started` / `.stopped` on its `typing`
   * topic. The typist's own connection does not get them back; the stop timer runs on the typist's instance.
   */
  private keystrokes(ctx: SessionContext, channelId: number, keys: string, conn: StompConnection): void {
    const app = ctx.applicationId;
    const user = stompUser({ id: ctx.userId, name: ctx.username, displayName: ctx.username });
    this.ephemeral.publish(app, channelId, Topics.channel(channelId, 'keystrokes'), 'thread.keystrokes.created', {
      username: ctx.username,
      keys,
      _relays: { user: `/application/users/${ctx.userId}.relay`, thread: `/application/channels/${channelId}.relay` },
    }, conn);
    const k = `${ctx.userSessionId}:${channelId}`;
    const running = this.typing.get(k);
    if (running) clearTimeout(running);
    else this.ephemeral.publish(app, channelId, Topics.channel(channelId, 'typing'), 'thread.typing.started', user, conn);
    const stop = setTimeout(() => this.stopTyping(ctx, channelId, conn), TYPING_MS);
    stop.unref();
    this.typing.set(k, stop);
  }

  /** `thread.typing.stopped` for a typist whose indicator runs (5 s after the last keystrokes, or on losing access). */
  private stopTyping(ctx: SessionContext, channelId: number, conn: StompConnection): void {
    const k = `${ctx.userSessionId}:${channelId}`;
    const running = this.typing.get(k);
    if (!running) return;
    clearTimeout(running);
    this.typing.delete(k);
    const user = stompUser({ id: ctx.userId, name: ctx.username, displayName: ctx.username });
    this.ephemeral.publish(ctx.applicationId, channelId, Topics.channel(channelId, 'typing'), 'thread.typing.stopped', user, conn);
  }
}
