import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { preparedQuery } from '@chatfn/event-store';
import { MicroBatcher } from '@chatfn/messaging';
import { CHANNEL_COLUMNS, channelRes, ChannelRes, Json, MessageRes, userRes, UserRes } from '../channels/resources';
import { UserRef } from '../channels/channels.schema';
import { NOTIFY_CTES, NotificationsService, NotifyInput } from '../notifications/notifications.service';
import { ChatEventInput, ChatEventRecorder } from '../shared/chat-event.recorder';

/** The channel a message goes to and, when sent on a user's behalf, the sender (null: no such user). */
export interface SendContext {
  /** Undefined: no such channel in the application. */
  channel?: ChannelRes;
  sender?: { user: UserRes; isMember: boolean } | null;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface ContextQuery {
  app: number;
  channel: number;
  uid: number | null;
  uname: string | null;
}

/** Each query's channel and sender: one statement for a whole batch of sends (parameter: `contextParam`). */
export const CONTEXT_SQL = `
  SELECT q.idx, ${CHANNEL_COLUMNS},
         CASE WHEN su.id IS NOT NULL THEN to_jsonb(su) || jsonb_build_object('is_member', mem.yes IS NOT NULL) END AS sender
    FROM jsonb_to_recordset($1::jsonb) AS q(idx int, app bigint, channel bigint, uid bigint, uname text)
    -- Probes by key (OFFSET 0 keeps the subquery per row): the generic plan must not hash the whole channels table.
    LEFT JOIN LATERAL (SELECT * FROM channels WHERE id = q.channel AND application_id = q.app OFFSET 0) c ON true
    LEFT JOIN LATERAL (
      SELECT u.* FROM users u WHERE q.uid IS NOT NULL AND u.id = q.uid AND u.application_id = q.app AND u.deleted_time IS NULL
      UNION ALL
      SELECT u.* FROM users u WHERE q.uid IS NULL AND u.application_id = q.app AND u.name = q.uname AND u.deleted_time IS NULL
    ) su ON true
    -- A probe per row (LIMIT 1 is never hashed): the generic plan must not hash the whole members table.
    LEFT JOIN LATERAL (SELECT true AS yes FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = su.id LIMIT 1) mem ON true
   ORDER BY q.idx`;

/**
 * Stores a batch of messages with one statement: the messages (ids taken in batch order, so one channel's messages
 * keep the order they were sent in), the parents' reply counts and every notification by ChatKitty's rules. Returns
 * one row per message (`message_id`) followed by one per notification (its row, the recipient `usr` and `online`).
 * Parameter: `sendParam`.
 */
export const SEND_SQL = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(
      idx int, application_id bigint, channel_id bigint, type text, user_id bigint, body text, file jsonb,
      group_tag text, properties jsonb, mentions jsonb, parent_id bigint, nested_level int, created_time timestamptz,
      message jsonb, mentioned jsonb, author bigint, mentions_channel boolean, mentioned_channel jsonb, parent jsonb,
      titles jsonb, note_body text)
  ), ids AS (
    SELECT s.idx, nextval(pg_get_serial_sequence('messages', 'id')) AS id FROM (SELECT idx FROM input ORDER BY idx) s
  ), msg AS (
    INSERT INTO messages (id, application_id, channel_id, type, user_id, body, file, group_tag, properties, mentions,
                          parent_id, nested_level, created_time)
    OVERRIDING SYSTEM VALUE
    SELECT ids.id, i.application_id, i.channel_id, i.type, i.user_id, i.body, i.file, i.group_tag,
           coalesce(i.properties, '{}'::jsonb), i.mentions, i.parent_id, i.nested_level, i.created_time
      FROM input i JOIN ids USING (idx) ORDER BY i.idx
    RETURNING id
  ), parent AS (
    UPDATE messages p SET replies_count = p.replies_count + (SELECT count(*)::int FROM input WHERE parent_id = p.id)
     WHERE p.id = ANY (ARRAY(SELECT parent_id FROM input WHERE parent_id IS NOT NULL))
  ), ${NOTIFY_CTES}
  SELECT ids.idx, ids.id AS message_id, NULL::bigint AS id, NULL::bigint AS user_id, NULL::text AS title,
         NULL::text AS body, NULL::jsonb AS data, NULL::boolean AS muted, NULL::timestamptz AS created_time,
         NULL::jsonb AS usr, NULL::boolean AS online
    FROM ids
  UNION ALL
  SELECT r.idx, NULL, n.id, n.user_id, n.title, n.body, n.data, n.muted, n.created_time, r.usr, r.online
    FROM notify_ins n
    JOIN ids ON ids.id = (n.data->'message'->>'id')::bigint
    JOIN notify_r r ON r.idx = ids.idx AND r.user_id = n.user_id
   ORDER BY 1, 3 NULLS FIRST`;

/** Batches bigger than this are split: bounded statement size and lock footprint. */
const MAX_BATCH = 128;

/**
 * Write lanes: batches in flight at once. A channel always writes through the same lane (channel id modulo), so
 * concurrent batches never append to the same channel's event stream, and one channel's messages stay in order.
 */
const LANES = 2;

/**
 * The write path of sending messages, built for many concurrent senders: group commit. Sends arriving while a batch
 * is in flight gather and go out together when it finishes, so the database sees one statement per batch for the
 * channels and senders (`context`), and one transaction of two statements per batch for the messages, their
 * notifications and their chat events (`write`), instead of four to six round trips per message. An idle server
 * sends each message at once (no timer). A batch that fails is retried message by message, so one bad message fails
 * alone.
 */
@Injectable()
export class MessageWriter {
  private readonly contexts = new MicroBatcher<ContextQuery, Outcome<SendContext>>((qs) => settle(() => this.loadContexts(qs), qs.length), {
    maxBatch: MAX_BATCH,
    maxConcurrent: 2,
  });
  private readonly lanes = Array.from(
    { length: LANES },
    () => new MicroBatcher<NotifyInput, Outcome<MessageRes>>((ms) => this.writeAll(ms), { maxBatch: MAX_BATCH, maxConcurrent: 1 }),
  );

  constructor(
    private readonly db: DataSource,
    private readonly notifications: NotificationsService,
    private readonly recorder: ChatEventRecorder,
  ) {}

  /** The channel and sender of a message to send (batched with concurrent sends). */
  async context(applicationId: number, channelId: number, ref: UserRef | undefined): Promise<SendContext> {
    const q: ContextQuery = {
      app: applicationId,
      channel: channelId,
      uid: ref && 'id' in ref ? ref.id : null,
      uname: ref && 'username' in ref ? ref.username : null,
    };
    return unwrap(await this.contexts.add(q));
  }

  /**
   * Stores a message (its resource, id still 0: set here), its notifications and its chat events (batched with
   * concurrent sends); the stored message. `m.channel` is the channel as the `user.sent.message` event shows it: its
   * `lastReceivedMessage` is set once stored.
   */
  async write(m: NotifyInput): Promise<MessageRes> {
    return unwrap(await this.lanes[m.message.channelId % LANES].add(m));
  }

  private async loadContexts(qs: ContextQuery[]): Promise<SendContext[]> {
    const rows: Json[] = await preparedQuery(this.db.manager, 'chatfn_chat_send_context', CONTEXT_SQL, [contextParam(qs)]);
    const byIdx = new Map(rows.map((r) => [Number(r.idx), r]));
    return qs.map((q, i) => {
      const r = byIdx.get(i);
      if (!r || r.id === null) return {};
      const channel = channelRes(r);
      if (q.uid === null && q.uname === null) return { channel };
      const s = r.sender as Json | null;
      return { channel, sender: s ? { user: userRes(s), isMember: Boolean(s.is_member) } : null };
    });
  }

  private async writeAll(ms: NotifyInput[]): Promise<Outcome<MessageRes>[]> {
    const batch = await settle(() => this.db.transaction((tx) => this.writeBatch(tx, ms)), ms.length);
    if (ms.length === 1 || batch.every((o) => o.ok)) return batch;
    // Something in the batch failed the whole transaction: find out which, one message per transaction.
    return Promise.all(ms.map(async (m) => (await settle(() => this.db.transaction((tx) => this.writeBatch(tx, [m])), 1))[0]));
  }

  private async writeBatch(tx: EntityManager, ms: NotifyInput[]): Promise<MessageRes[]> {
    const rows: Json[] = await preparedQuery(tx, 'chatfn_chat_send_messages', SEND_SQL, [sendParam(ms, this.notifications)]);
    const notes = new Map<number, Json[]>();
    for (const r of rows) {
      const idx = Number(r.idx);
      if (r.message_id !== null) {
        ms[idx].message.id = Number(r.message_id);
      } else {
        const list = notes.get(idx);
        if (list) list.push(r);
        else notes.set(idx, [r]);
      }
    }
    const events: ChatEventInput[] = [];
    for (const [idx, m] of ms.entries()) {
      const { message, channel, sender, depth } = m;
      if (message.parentId === undefined) channel.lastReceivedMessage = withoutUser(message);
      const base = { applicationId: m.applicationId, channelId: message.channelId, depth };
      events.push(
        sender
          ? { ...base, type: 'user.sent.message', userId: sender.id, data: { user: sender, channel, message } }
          : { ...base, type: 'system.sent.message', data: { channel, message } },
      );
      events.push(...this.notifications.events(notes.get(idx) ?? [], m));
    }
    await this.recorder.recordAll(tx, events);
    return ms.map((m) => m.message);
  }
}

/** `CONTEXT_SQL`'s parameter: the batch's queries, numbered in order (`idx`). */
export function contextParam(qs: ContextQuery[]): string {
  return JSON.stringify(qs.map((q, idx) => ({ idx, ...q })));
}

/** `SEND_SQL`'s parameter: per message its `messages` row, its resource (id still unset) and its `NotifyColumns`. */
export function sendParam(ms: NotifyInput[], notifications: Pick<NotificationsService, 'columns'>): string {
  return JSON.stringify(ms.map((m, idx) => ({ idx, ...rowOf(m), message: withoutId(m.message), ...notifications.columns(m) })));
}

/** Runs a batch: its results, or the same error for every item. */
async function settle<T>(run: () => Promise<T[]>, n: number): Promise<Outcome<T>[]> {
  try {
    return (await run()).map((value) => ({ ok: true as const, value }));
  } catch (error) {
    return Array.from({ length: n }, () => ({ ok: false as const, error }));
  }
}

function unwrap<T>(o: Outcome<T>): T {
  if (!o.ok) throw o.error;
  return o.value;
}

/** The `messages` row of a message to store (`SEND_SQL`'s input columns). */
function rowOf({ applicationId, message: m, sender }: NotifyInput): Json {
  return {
    application_id: applicationId,
    channel_id: m.channelId,
    type: m.type,
    user_id: sender?.id ?? null,
    body: m.body ?? null,
    file: m.file ?? null,
    group_tag: m.groupTag ?? null,
    properties: m.properties,
    mentions: m.mentions ?? null,
    parent_id: m.parentId ?? null,
    nested_level: m.nestedLevel,
    created_time: m.createdTime,
  };
}

function withoutId(m: MessageRes): Json {
  const { id: _id, ...rest } = m;
  return rest;
}

function withoutUser(m: MessageRes): MessageRes {
  const { user: _u, ...rest } = m;
  return rest as MessageRes;
}
