import { Injectable } from '@nestjs/common';
import { ChatEventInput } from '../shared/chat-event.recorder';
import { channelRes, ChannelRes, iso, Json, MessageRes, userRes, UserRes } from '../channels/resources';

export type NotificationType =
  | 'USER:SENT:MESSAGE'
  | 'SYSTEM:SENT:MESSAGE'
  | 'USER:MENTIONED:USER'
  | 'USER:MENTIONED:CHANNEL'
  | 'USER:REPLIED_TO:MESSAGE';

export interface NotifyInput {
  applicationId: number;
  channel: ChannelRes;
  message: MessageRes;
  sender?: UserRes;
  /** Users mentioned with `<@name>` (ids). */
  mentionedUserIds: number[];
  /** First channel mentioned with `<#name>`, if any. */
  mentionedChannel?: ChannelRes;
  /** Parent message of a thread reply (its author gets USER:REPLIED_TO:MESSAGE). */
  parent?: MessageRes & { user?: UserRes };
  depth: number;
}

/** A message's notification inputs, one row of the batch statement's `input` (see `NOTIFY_CTES`). */
export interface NotifyColumns {
  mentioned: number[];
  author: number | null;
  mentions_channel: boolean;
  mentioned_channel: ChannelRes | null;
  parent: Json | null;
  titles: Record<NotificationType, string>;
  note_body: string;
}

/**
 * ChatKitty's notification rules as set-based CTEs over the batch of messages being sent (`input`: one row per
 * message with `idx`, `application_id`, `channel_id`, `user_id` (the sender) and the `NotifyColumns`; `ids`: each
 * message's id), spliced into the statement that stores them: members without an ACTIVE chat session in the channel
 * get USER:SENT:MESSAGE (SYSTEM:SENT:MESSAGE for system messages); mentioned users get USER:MENTIONED:USER, members
 * of a message mentioning a channel get USER:MENTIONED:CHANNEL, the parent's author gets USER:REPLIED_TO:MESSAGE —
 * one notification per recipient and message, the most specific type winning, never to the sender. `notify_ins`
 * returns the stored rows; `notify_r` has each recipient's user (`usr`) and whether they are online.
 *
 * Every lookup is a probe by key for the message at hand (the LATERAL subqueries with OFFSET 0 or LIMIT 1, the
 * per-channel ARRAY) and duplicates go by sorting (DISTINCT ON), not hashing: the statement is prepared, and its
 * generic plan, which cannot know how few rows a batch has, otherwise hashed whole tables — all channel members, all
 * users, all active chat and user sessions — and sized a hash table for a million candidates, on every send (32 ms a
 * batch with 20,000 users in the application).
 */
export const NOTIFY_CTES = `
  notify_cand AS (
    SELECT DISTINCT ON (idx, user_id) idx, user_id FROM (
      SELECT i.idx, m.user_id FROM input i CROSS JOIN LATERAL (
        SELECT cm.user_id FROM channel_members cm
         WHERE cm.channel_id = i.channel_id
           AND cm.user_id <> ALL (ARRAY(SELECT cs.user_id FROM chat_sessions cs WHERE cs.channel_id = i.channel_id AND cs.state = 'ACTIVE'))
        OFFSET 0) m
      UNION ALL SELECT i.idx, m.value::bigint FROM input i, jsonb_array_elements_text(i.mentioned) AS m(value)
      UNION ALL SELECT i.idx, i.author FROM input i WHERE i.author IS NOT NULL
    ) cand ORDER BY idx, user_id
  ), notify_r AS (
    SELECT c.idx, u.id AS user_id, to_jsonb(u) AS usr, s.yes IS NOT NULL AS online,
           CASE WHEN u.id = i.author THEN 'USER:REPLIED_TO:MESSAGE'
                WHEN i.mentioned @> to_jsonb(u.id) THEN 'USER:MENTIONED:USER'
                WHEN i.mentions_channel THEN 'USER:MENTIONED:CHANNEL'
                WHEN i.user_id IS NULL THEN 'SYSTEM:SENT:MESSAGE'
                ELSE 'USER:SENT:MESSAGE' END AS kind
      FROM notify_cand c JOIN input i USING (idx) CROSS JOIN LATERAL (SELECT * FROM users WHERE id = c.user_id OFFSET 0) u
      LEFT JOIN LATERAL (SELECT true AS yes FROM user_sessions WHERE user_id = u.id AND state = 'ACTIVE' LIMIT 1) s ON true
     WHERE u.application_id = i.application_id AND u.deleted_time IS NULL AND u.id IS DISTINCT FROM i.user_id
  ), notify_ins AS (
    INSERT INTO notifications (application_id, user_id, channel_id, title, body, data)
    SELECT i.application_id, r.user_id, i.channel_id, i.titles->>r.kind, i.note_body,
           jsonb_build_object('type', r.kind, 'channelId', i.channel_id, 'message', i.message || jsonb_build_object('id', ids.id))
           || CASE r.kind WHEN 'USER:MENTIONED:CHANNEL' THEN jsonb_build_object('mentionedChannel', i.mentioned_channel)
                          WHEN 'USER:REPLIED_TO:MESSAGE' THEN jsonb_build_object('parent', i.parent)
                          ELSE '{}'::jsonb END
      FROM notify_r r JOIN input i USING (idx) JOIN ids USING (idx)
     ORDER BY r.idx, r.user_id
    RETURNING id, user_id, channel_id, title, body, data, muted, created_time
  )`;

/** ChatKitty's notification rules (see `NOTIFY_CTES`) and the `user.received.notification` events they cause. */
@Injectable()
export class NotificationsService {
  /** The columns `NOTIFY_CTES` needs of one message: its recipients' inputs, titles and body. */
  columns(n: NotifyInput): NotifyColumns {
    const parentAuthor = (n.parent?.user as UserRes | undefined)?.id ?? null;
    const who = n.sender ? String(n.sender.displayName) : 'System';
    const where = n.channel.type === 'DIRECT' ? 'a direct message' : `#${String(n.channel.displayName ?? n.channel.name)}`;
    const body =
      typeof n.message.body === 'string' ? n.message.body : `sent a file${n.message.file ? `: ${(n.message.file as Json).name}` : ''}`;
    return {
      mentioned: n.mentionedUserIds,
      author: parentAuthor,
      mentions_channel: n.mentionedChannel !== undefined,
      mentioned_channel: n.mentionedChannel ?? null,
      parent: n.parent ? (n.parent as Json) : null,
      titles: {
        'USER:SENT:MESSAGE': `${who} sent a message in ${where}`,
        'SYSTEM:SENT:MESSAGE': `New message in ${where}`,
        'USER:MENTIONED:USER': `${who} mentioned you in ${where}`,
        'USER:MENTIONED:CHANNEL': `${who} mentioned ${n.mentionedChannel ? `#${String(n.mentionedChannel.name)}` : 'a channel'} in ${where}`,
        'USER:REPLIED_TO:MESSAGE': `${who} replied to your message in ${where}`,
      },
      note_body: body,
    };
  }

  /** The `user.received.notification` events of the rows `plan`'s SELECT returned. */
  events(rows: Json[], n: Pick<NotifyInput, 'applicationId' | 'channel' | 'depth'>): ChatEventInput[] {
    return rows.map((r) => {
      const user = userRes(r.usr as Json);
      return {
        applicationId: n.applicationId,
        type: 'user.received.notification',
        channelId: n.channel.id,
        userId: user.id,
        depth: n.depth,
        data: { user, notification: notificationRes(r, n.channel, user), userHasActiveSession: Boolean(r.online) },
      };
    });
  }
}

/** A `notifications` row → NotificationResource (USER:MENTIONED:USER gets its `mentionedUser`: the recipient). */
export function notificationRes(r: Json, channel: ChannelRes | Json | null | undefined, recipient: UserRes): Json {
  const data = { ...(r.data as Json) };
  if (data.type === 'USER:MENTIONED:USER') data.mentionedUser = recipient;
  const out: Json = {
    id: Number(r.id),
    title: r.title,
    body: r.body,
    data,
    muted: Boolean(r.muted),
    createdTime: iso(r.created_time),
  };
  if (channel) out.channel = 'createdTime' in channel ? channel : channelRes(channel);
  if (r.read_time) out.readTime = iso(r.read_time);
  return out;
}
