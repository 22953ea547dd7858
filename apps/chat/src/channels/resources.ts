import { defaultDisplayPictureUrl } from '../users/user.mapper';

/**
 * Resources in the camelCase shape chat functions receive (`TRIGGERS` payloads in `@chatfn/contracts`), built from
 * raw rows (`SELECT ... ` or `to_jsonb(row)`, snake_case columns). HTTP responses render them with `toWire`.
 */
export type Json = Record<string, unknown>;

export interface UserRes extends Json {
  id: number;
  name: string;
}
export interface ChannelRes extends Json {
  id: number;
  type: 'PUBLIC' | 'PRIVATE' | 'DIRECT';
}
export interface MessageRes extends Json {
  id: number;
  type: string;
  channelId: number;
}

export const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();
const num = (v: unknown): number => Number(v);

/** `users` row (or its `to_jsonb`) → ChatUserProperties. */
export function userRes(r: Json): UserRes {
  const u: UserRes = {
    id: num(r.id),
    type: (r.type as string) ?? 'PERSON',
    name: r.name as string,
    displayName: r.display_name as string,
    displayPictureUrl: (r.display_picture_url as string | null) ?? defaultDisplayPictureUrl({ name: r.name as string }),
    isGuest: Boolean(r.is_guest),
    presence: { online: Boolean(r.presence_online), status: (r.presence_status as string) ?? 'UNAVAILABLE' },
    properties: (r.properties as Json) ?? {},
  };
  if (r.call_status) u.callStatus = r.call_status;
  return u;
}

/** `messages` row (or its `to_jsonb`), with its sender row if any → MessageResource. */
export function messageRes(r: Json, sender?: Json | null): MessageRes {
  const m: MessageRes = {
    id: num(r.id),
    type: r.type as string,
    channelId: num(r.channel_id),
    createdTime: iso(r.created_time),
    nestedLevel: num(r.nested_level ?? 0),
    properties: (r.properties as Json) ?? {},
    repliesCount: num(r.replies_count ?? 0),
  };
  if (r.body !== null && r.body !== undefined) m.body = r.body;
  if (r.file) m.file = r.file;
  if (r.group_tag) m.groupTag = r.group_tag;
  if (r.last_edited_time) m.lastEditedTime = iso(r.last_edited_time);
  if (r.type === 'TEXT' || r.type === 'SYSTEM_TEXT') m.mentions = (r.mentions as unknown[]) ?? [];
  if (num(r.report_count ?? 0) > 0) m.reportCount = num(r.report_count);
  if (r.parent_id !== null && r.parent_id !== undefined) m.parentId = num(r.parent_id);
  if (sender) m.user = userRes(sender);
  return m;
}

/**
 * `channels` row with the columns of `CHANNEL_COLUMNS` (creator, last_message, members as jsonb) → ChannelResource.
 * PUBLIC/PRIVATE carry `name`/`displayName`; DIRECT carries `members`.
 */
export function channelRes(r: Json): ChannelRes {
  const c: ChannelRes = {
    id: num(r.id),
    type: r.type as ChannelRes['type'],
    createdTime: iso(r.created_time),
    properties: (r.properties as Json) ?? {},
  };
  if (c.type === 'DIRECT') {
    c.members = ((r.members as Json[] | null) ?? []).map(userRes);
  } else {
    c.name = r.name;
    c.displayName = r.display_name ?? r.name;
  }
  if (r.creator) c.creator = userRes(r.creator as Json);
  if (r.last_message) c.lastReceivedMessage = messageRes(r.last_message as Json);
  return c;
}

/**
 * Select list rendering a channel row with its creator, last message and (DIRECT) members in one statement. The last
 * message is read through `messages_channel_idx` rather than stored on the channel, so sending never writes (and
 * row-locks) the channel. A DIRECT channel's members are probed by key (OFFSET 0 keeps the subquery per member): as a
 * join, planned for the average channel's member count, it read every user of the database (a Seq Scan hashed
 * against the members, or a merge join walking all of `users_pkey`) on every send to a direct channel.
 */
export const CHANNEL_COLUMNS = `
  c.id, c.application_id, c.type, c.name, c.display_name, c.properties, c.created_time, c.creator_id,
  (SELECT to_jsonb(u) FROM users u WHERE u.id = c.creator_id) AS creator,
  (SELECT to_jsonb(m) FROM messages m WHERE m.channel_id = c.id AND m.parent_id IS NULL ORDER BY m.id DESC LIMIT 1)
    AS last_message,
  CASE WHEN c.type = 'DIRECT' THEN
    (SELECT jsonb_agg(to_jsonb(u) ORDER BY u.id) FROM channel_members cm
       CROSS JOIN LATERAL (SELECT * FROM users WHERE id = cm.user_id OFFSET 0) u
      WHERE cm.channel_id = c.id)
  END AS members`;

/**
 * Rows changed by an UPDATE/DELETE run through TypeORM's `query()`, which answers `[rows, rowCount]` for those
 * commands (and plain rows for SELECT/INSERT).
 */
export function affectedRows(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
  return Array.isArray(result) ? result.length : 0;
}
