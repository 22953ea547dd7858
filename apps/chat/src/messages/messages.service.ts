import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ChatfnConfig } from '@chatfn/config';
import { ApiException } from '@chatfn/platform';
import { ChannelsService } from '../channels/channels.service';
import { UserRef } from '../channels/channels.schema';
import { affectedRows, channelRes, ChannelRes, Json, messageRes, MessageRes, userRes, UserRes } from '../channels/resources';
import { toWire } from '../channels/wire-format';
import { ChatEventRecorder } from '../shared/chat-event.recorder';
import { MessageWriter } from './message-writer';
import { MentionToken, parseMentions } from './mentions';
import { CursorQuery } from './messages.schema';
import { MessageRejectedError, SendMessageHook } from './send-message.hook';

type Db = Pick<EntityManager, 'query'>;

/** What to send: a text or a file, by the system or on a user's behalf. */
export interface SendInput {
  type: 'TEXT' | 'FILE';
  body?: string;
  file?: { type: 'HOSTED' | 'EXTERNAL'; url: string; name: string; contentType: string; size: number };
  groupTag?: string;
  properties?: Record<string, unknown>;
  user?: UserRef;
}

export interface CursorPage<T> {
  items: T[];
  total: number;
  start?: number;
  next?: number;
  prev?: number;
}

const MESSAGE_SELECT = `SELECT m.*, to_jsonb(u) AS sender FROM messages m LEFT JOIN users u ON u.id = m.user_id`;

export const SEND_MESSAGE_HOOK = Symbol('SendMessageHook');

/** Messages and thread replies: send (with the blocking hook, notifications and events in one transaction), read, edit, delete. */
@Injectable()
export class MessagesService {
  constructor(
    private readonly db: DataSource,
    private readonly channels: ChannelsService,
    private readonly recorder: ChatEventRecorder,
    private readonly writer: MessageWriter,
    private readonly config: ChatfnConfig,
    @Optional() @Inject(SEND_MESSAGE_HOOK) private readonly hook?: SendMessageHook,
  ) {}

  // ---- send -----------------------------------------------------------------------------------------------------

  async send(applicationId: number, channelId: number, input: SendInput, depth: number, parentId?: number): Promise<MessageRes> {
    const [{ channel, sender }, parent] = await Promise.all([
      this.context(applicationId, channelId, input.user),
      parentId !== undefined ? this.get(applicationId, parentId) : Promise.resolve(undefined),
    ]);
    if (sender && !sender.isMember && channel.type !== 'PUBLIC') {
      throw ApiException.forbidden(`User ${sender.user.name} is not a member of channel ${channelId}`);
    }
    let body = input.body;
    let properties = input.properties ?? {};
    if (sender && this.hook?.applies(applicationId)) {
      // Refused before the function runs; the body it returns is checked again with its mentions below.
      if (input.body !== undefined) this.checkBody(input.body);
      try {
        const verdict = await this.hook.check(
          applicationId,
          { user: toWire(sender.user), channel: toWire(channel), message: { type: input.type, body, properties } },
          depth,
        );
        if (verdict.body !== undefined && input.type === 'TEXT') body = verdict.body;
        if (verdict.properties !== undefined) properties = verdict.properties;
      } catch (e) {
        if (e instanceof MessageRejectedError) throw new ApiException(400, 'MessageRejectedError', e.message);
        throw e;
      }
    }
    const type = sender ? input.type : input.type === 'TEXT' ? 'SYSTEM_TEXT' : 'SYSTEM_FILE';
    const mentions = body !== undefined ? await this.mentions(applicationId, body) : { list: [], userIds: [], channel: undefined };

    // The resource is built here (created_time from this clock, the id from the insert) so that the message, its
    // notifications (which embed it) and the chat events take one batched statement and one append.
    const message = messageRes({
      id: 0,
      type,
      channel_id: channelId,
      created_time: new Date(),
      nested_level: parent ? Number(parent.nestedLevel) + 1 : 0,
      properties,
      replies_count: 0,
      body: body ?? null,
      file: input.file ?? null,
      group_tag: input.groupTag ?? null,
      mentions: type.endsWith('TEXT') ? mentions.list : null,
      parent_id: parent?.id ?? null,
    });
    if (sender) message.user = sender.user;
    try {
      return await this.writer.write({
        applicationId,
        channel: { ...channel },
        message,
        sender: sender?.user,
        mentionedUserIds: mentions.userIds,
        mentionedChannel: mentions.channel,
        parent,
        depth,
      });
    } catch (e) {
      throw goneWhileSending(e, channelId, parentId) ?? e;
    }
  }

  /**
   * The channel (404 if unknown) and, when sending on a user's behalf, the sender with whether they belong to it
   * (404 for an unknown user): one statement, shared with concurrent sends.
   */
  private async context(
    applicationId: number,
    channelId: number,
    ref: UserRef | undefined,
  ): Promise<{ channel: ChannelRes; sender?: { user: UserRes; isMember: boolean } }> {
    const { channel, sender } = await this.writer.context(applicationId, channelId, ref);
    if (!channel) throw ApiException.notFound('Channel', channelId);
    if (!ref) return { channel };
    if (!sender) {
      throw 'id' in ref ? ApiException.notFound('User', ref.id) : new ApiException(404, 'ResourceNotFoundError', `User with name ${ref.username} not found`);
    }
    return { channel, sender };
  }

  /**
   * The body's mention tags; a 400 naming `body` for a body longer than `CHATFN_MAX_MESSAGE_LENGTH` or with more tags
   * than `CHATFN_MAX_MESSAGE_MENTIONS`.
   */
  private checkBody(body: string): MentionToken[] {
    const { CHATFN_MAX_MESSAGE_LENGTH: maxLength, CHATFN_MAX_MESSAGE_MENTIONS: maxMentions } = this.config.env;
    let problem: string | undefined;
    let tokens: MentionToken[] = [];
    if (body.length > maxLength) problem = `must be at most ${maxLength} characters (has ${body.length})`;
    else {
      tokens = parseMentions(body);
      if (tokens.length > maxMentions) problem = `must have at most ${maxMentions} mentions (<@user>, <#channel>; has ${tokens.length})`;
    }
    if (problem) throw ApiException.badRequest(`body: ${problem}`, { errors: [{ field: 'body', message: problem }] });
    return tokens;
  }

  /**
   * Resolves `<@user>` / `<#channel>` tags of a body (one query, only when the body has tags), after checking the
   * body's limits: this is the body that will be stored (a send_message hook may have changed it).
   */
  private async mentions(applicationId: number, body: string): Promise<{ list: Json[]; userIds: number[]; channel?: ChannelRes }> {
    const tokens = this.checkBody(body);
    if (tokens.length === 0) return { list: [], userIds: [] };
    const users = tokens.filter((t) => t.type === 'USER').map((t) => t.name);
    const channels = tokens.filter((t) => t.type === 'CHANNEL').map((t) => t.name);
    const rows: { kind: string; row: Json }[] = await this.db.query(
      `SELECT 'USER' AS kind, to_jsonb(u) AS row FROM users u
        WHERE u.application_id = $1 AND u.deleted_time IS NULL AND u.name = ANY($2::text[])
       UNION ALL
       SELECT 'CHANNEL', to_jsonb(c) FROM channels c WHERE c.application_id = $1 AND c.name = ANY($3::text[])`,
      [applicationId, users, channels],
    );
    const list: Json[] = [];
    const userIds = new Set<number>();
    let channel: ChannelRes | undefined;
    for (const t of tokens) {
      const hit = rows.find((r) => r.kind === t.type && r.row.name === t.name);
      if (!hit) continue;
      const base = { type: t.type, tag: t.tag, startPosition: t.startPosition, endPosition: t.endPosition };
      if (t.type === 'USER') {
        const user = userRes(hit.row);
        userIds.add(user.id);
        list.push({ ...base, user });
      } else {
        const c = channelRes(hit.row);
        channel ??= c;
        list.push({ ...base, channel: c });
      }
    }
    return { list, userIds: [...userIds], channel };
  }

  // ---- reads ----------------------------------------------------------------------------------------------------

  async get(applicationId: number, id: number, db: Db = this.db): Promise<MessageRes> {
    const rows: Json[] = await db.query(`${MESSAGE_SELECT} WHERE m.id = $1 AND m.application_id = $2`, [id, applicationId]);
    if (!rows[0]) throw ApiException.notFound('Message', id);
    return messageRes(rows[0], rows[0].sender as Json | null);
  }

  /**
   * A cursor page of messages matching `where` (SQL over alias `m`, parameters `args`), newest first. Cursors are
   * message ids: `start` pins the newest message of the first page, `next` is where the following page begins.
   */
  async page(where: string, args: unknown[], c: CursorQuery): Promise<CursorPage<MessageRes>> {
    const a = [...args];
    const p = (v: unknown) => {
      a.push(v);
      return `$${a.length}`;
    };
    const conds = [where];
    let order = 'DESC';
    if (c.next !== undefined && c.relation === 'PREVIOUS') {
      conds.push(`m.id > ${p(c.next)}`);
      if (c.start !== undefined) conds.push(`m.id <= ${p(c.start)}`);
      order = 'ASC';
    } else if (c.next !== undefined) {
      conds.push(`m.id <= ${p(c.next)}`);
    } else if (c.start !== undefined) {
      conds.push(`m.id <= ${p(c.start)}`);
    }
    const sql = `${MESSAGE_SELECT} WHERE ${conds.join(' AND ')} ORDER BY m.id ${order} LIMIT ${p(c.size + 1)}`;
    const [rows, count] = await Promise.all([
      this.db.query(sql, a) as Promise<Json[]>,
      this.db.query(`SELECT count(*)::int AS n FROM messages m WHERE ${where}`, args) as Promise<{ n: number }[]>,
    ]);
    const more = rows.length > c.size;
    let page = rows.slice(0, c.size);
    if (order === 'ASC') page = page.reverse();
    const items = page.map((r) => messageRes(r, r.sender as Json | null));
    const start = c.start ?? items[0]?.id;
    const last = items[items.length - 1];
    const first = items[0];
    const olderExists = order === 'ASC' ? last !== undefined && (await this.exists(where, args, last.id)) : more;
    const out: CursorPage<MessageRes> = { items, total: count[0].n, start };
    if (olderExists && last) out.next = last.id - 1;
    if (first && start !== undefined && first.id < start) out.prev = first.id;
    return out;
  }

  private async exists(where: string, args: unknown[], below: number): Promise<boolean> {
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM messages m WHERE ${where} AND m.id < $${args.length + 1} LIMIT 1`, [
      ...args,
      below,
    ]);
    return rows.length > 0;
  }

  /** Read receipts of a message (page). */
  async readReceipts(applicationId: number, id: number, paging: { page: number; size: number }): Promise<{ items: Json[]; total: number }> {
    await this.get(applicationId, id);
    const [rows, count] = await Promise.all([
      this.db.query(
        `SELECT r.created_time, to_jsonb(u) AS usr FROM message_read_receipts r JOIN users u ON u.id = r.user_id
          WHERE r.message_id = $1 ORDER BY r.created_time, r.user_id LIMIT $2 OFFSET $3`,
        [id, paging.size, paging.page * paging.size],
      ) as Promise<Json[]>,
      this.db.query(`SELECT count(*)::int AS n FROM message_read_receipts WHERE message_id = $1`, [id]) as Promise<{ n: number }[]>,
    ]);
    return {
      items: rows.map((r) => ({ user: userRes(r.usr as Json), createdTime: new Date(r.created_time as string).toISOString() })),
      total: count[0].n,
    };
  }

  // ---- edits ----------------------------------------------------------------------------------------------------

  async update(
    applicationId: number,
    id: number,
    patch: { body?: string; properties?: Record<string, unknown> },
    depth: number,
  ): Promise<MessageRes> {
    const current = await this.get(applicationId, id);
    if (patch.body !== undefined && !String(current.type).endsWith('TEXT')) {
      throw ApiException.badRequest('body: only text messages have a body', { errors: [{ field: 'body', message: 'only text messages have a body' }] });
    }
    const mentions = patch.body !== undefined ? await this.mentions(applicationId, patch.body) : undefined;
    return this.db.transaction(async (tx) => {
      // The channel's row before the message's (and its stream): the order a channel delete takes them in.
      await this.channels.lock(tx, applicationId, current.channelId, 'KEY SHARE');
      const changed = affectedRows(await tx.query(
        `UPDATE messages SET body = coalesce($3, body), properties = coalesce($4::jsonb, properties),
                mentions = coalesce($5::jsonb, mentions), last_edited_time = now()
          WHERE id = $1 AND application_id = $2`,
        [id, applicationId, patch.body ?? null, patch.properties ? JSON.stringify(patch.properties) : null, mentions ? JSON.stringify(mentions.list) : null],
      ));
      if (!changed) throw ApiException.notFound('Message', id);
      const message = await this.get(applicationId, id, tx);
      const channel = await this.channels.get(applicationId, message.channelId, tx);
      await this.recorder.record(tx, { applicationId, type: 'message.updated', channelId: channel.id, depth, data: { channel, message } });
      return message;
    });
  }

  async delete(applicationId: number, id: number, depth: number): Promise<MessageRes> {
    return this.db.transaction(async (tx) => {
      const message = await this.get(applicationId, id, tx);
      await this.channels.lock(tx, applicationId, message.channelId, 'KEY SHARE');
      const channel = await this.channels.get(applicationId, message.channelId, tx);
      await tx.query(
        `WITH gone AS (DELETE FROM messages WHERE id = $1 RETURNING parent_id)
         UPDATE messages SET replies_count = greatest(replies_count - 1, 0) WHERE id = (SELECT parent_id FROM gone)`,
        [id],
      );
      await this.recorder.record(tx, { applicationId, type: 'message.deleted', channelId: channel.id, depth, data: { channel, message } });
      return message;
    });
  }

  /** Deletes every message of the application (no per-message events: one bulk operation). */
  async deleteAll(applicationId: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM messages WHERE application_id = $1`, [applicationId]);
    });
  }
}

/**
 * The 404 for a send whose channel or parent message was deleted after it was looked up (a concurrent delete): the
 * insert then violates the foreign key to it. Undefined for any other error.
 */
function goneWhileSending(e: unknown, channelId: number, parentId?: number): ApiException | undefined {
  const d = ((e as { driverError?: unknown })?.driverError ?? e) as { code?: unknown; constraint?: unknown } | undefined;
  if (d?.code !== '23503') return undefined;
  if (d.constraint === 'messages_parent_id_fkey' && parentId !== undefined) return ApiException.notFound('Message', parentId);
  if (d.constraint === 'messages_channel_id_fkey' || d.constraint === 'notifications_channel_id_fkey') return ApiException.notFound('Channel', channelId);
  return undefined;
}
