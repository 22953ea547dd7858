import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
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

/**
 * ChatKitty's notification rules, computed and stored with one statement per message:
 * members without an ACTIVE chat session in the channel get USER:SENT:MESSAGE (SYSTEM:SENT:MESSAGE for system
 * messages); mentioned users get USER:MENTIONED:USER, members of a message mentioning a channel get
 * USER:MENTIONED:CHANNEL, the parent's author gets USER:REPLIED_TO:MESSAGE — one notification per recipient, the
 * most specific type winning, never to the sender. Returns the `user.received.notification` events to record.
 */
@Injectable()
export class NotificationsService {
  async notify(tx: EntityManager, n: NotifyInput): Promise<ChatEventInput[]> {
    const params: unknown[] = [];
    const param = (v: unknown) => `$${params.push(v)}`;
    const plan = this.plan(n, param, `${param(JSON.stringify(n.message))}::jsonb`);
    const rows: Json[] = await tx.query(`WITH ${plan.ctes} ${plan.select}`, params);
    return this.events(rows, n);
  }

  /**
   * The notification rules as CTEs (`notify_cand`, `notify_r`, `notify_ins`) to splice into a larger statement (the
   * message insert), plus the final SELECT. `param(v)` adds a parameter and returns its placeholder; `messageSql` is
   * the SQL expression of the message resource (jsonb) stored in each notification's data.
   */
  plan(n: NotifyInput, param: (v: unknown) => string, messageSql: string): { ctes: string; select: string } {
    const parentAuthor = (n.parent?.user as UserRes | undefined)?.id ?? null;
    const who = n.sender ? String(n.sender.displayName) : 'System';
    const where = n.channel.type === 'DIRECT' ? 'a direct message' : `#${String(n.channel.displayName ?? n.channel.name)}`;
    const body =
      typeof n.message.body === 'string' ? n.message.body : `sent a file${n.message.file ? `: ${(n.message.file as Json).name}` : ''}`;
    const titles: Record<NotificationType, string> = {
      'USER:SENT:MESSAGE': `${who} sent a message in ${where}`,
      'SYSTEM:SENT:MESSAGE': `New message in ${where}`,
      'USER:MENTIONED:USER': `${who} mentioned you in ${where}`,
      'USER:MENTIONED:CHANNEL': `${who} mentioned ${n.mentionedChannel ? `#${String(n.mentionedChannel.name)}` : 'a channel'} in ${where}`,
      'USER:REPLIED_TO:MESSAGE': `${who} replied to your message in ${where}`,
    };
    const app = param(n.applicationId);
    const channel = param(n.channel.id);
    const sender = param(n.sender?.id ?? null);
    const mentioned = param(n.mentionedUserIds);
    const author = param(parentAuthor);
    const ctes = `notify_cand AS (
         SELECT cm.user_id FROM channel_members cm
          WHERE cm.channel_id = ${channel}
            AND NOT EXISTS (SELECT 1 FROM chat_sessions cs
                             WHERE cs.channel_id = ${channel} AND cs.user_id = cm.user_id AND cs.state = 'ACTIVE')
         UNION SELECT unnest(${mentioned}::bigint[])
         UNION SELECT ${author}::bigint WHERE ${author}::bigint IS NOT NULL
       ), notify_r AS (
         SELECT u.id AS user_id, to_jsonb(u) AS usr,
                EXISTS (SELECT 1 FROM user_sessions s WHERE s.user_id = u.id AND s.state = 'ACTIVE') AS online,
                CASE WHEN u.id = ${author}::bigint THEN 'USER:REPLIED_TO:MESSAGE'
                     WHEN u.id = ANY(${mentioned}::bigint[]) THEN 'USER:MENTIONED:USER'
                     WHEN ${param(n.mentionedChannel !== undefined)}::boolean THEN 'USER:MENTIONED:CHANNEL'
                     WHEN ${sender}::bigint IS NULL THEN 'SYSTEM:SENT:MESSAGE'
                     ELSE 'USER:SENT:MESSAGE' END AS kind
           FROM notify_cand JOIN users u ON u.id = notify_cand.user_id
          WHERE u.application_id = ${app} AND u.deleted_time IS NULL AND u.id IS DISTINCT FROM ${sender}::bigint
       ), notify_ins AS (
         INSERT INTO notifications (application_id, user_id, channel_id, title, body, data)
         SELECT ${app}, r.user_id, ${channel}, (${param(JSON.stringify(titles))}::jsonb)->>r.kind, ${param(body)},
                jsonb_build_object('type', r.kind, 'channelId', ${channel}::bigint, 'message', ${messageSql})
                || CASE r.kind WHEN 'USER:MENTIONED:CHANNEL' THEN jsonb_build_object('mentionedChannel', ${param(n.mentionedChannel ? JSON.stringify(n.mentionedChannel) : null)}::jsonb)
                               WHEN 'USER:REPLIED_TO:MESSAGE' THEN jsonb_build_object('parent', ${param(n.parent ? JSON.stringify(n.parent) : null)}::jsonb)
                               ELSE '{}'::jsonb END
           FROM notify_r r ORDER BY r.user_id
         RETURNING id, user_id, title, body, data, muted, created_time
       )`;
    const select = `SELECT notify_ins.*, r.usr, r.online FROM notify_ins JOIN notify_r r ON r.user_id = notify_ins.user_id ORDER BY notify_ins.id`;
    return { ctes, select };
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
