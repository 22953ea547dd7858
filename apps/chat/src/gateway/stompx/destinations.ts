/**
 * chatfn's StompX destination scheme (research/stompx-protocol.md §9) and the link maps (`_relays`, `_topics`,
 * `_actions`, `_streams`) the `@chatkitty/core` client follows. The client treats the strings as opaque; the gateway
 * routes them with `matchDestination`.
 */
type Json = Record<string, unknown>;

const USER_TOPICS = [
  'self',
  'elements',
  'features',
  'styles',
  'channels',
  'messages',
  'readReceipts',
  'notifications',
  'contacts',
  'participants',
  'users',
  'reactions',
  'threads',
  'calls',
] as const;

const CHANNEL_TOPICS = ['messages', 'keystrokes', 'typing', 'participants', 'readReceipts', 'reactions', 'events', 'members', 'blockRecords', 'moderators'] as const;
export type ChannelTopic = 'self' | (typeof CHANNEL_TOPICS)[number];
export type UserTopic = (typeof USER_TOPICS)[number];

export const Topics = {
  user: (userId: number, t: UserTopic) => `/topic/users/${userId}/${t}`,
  channel: (channelId: number, t: ChannelTopic) => (t === 'self' ? `/topic/channels/${channelId}` : `/topic/channels/${channelId}/${t}`),
};

/** Every topic destination of a channel (its `self` topic and the ten others). */
export function channelTopics(channelId: number): string[] {
  return [Topics.channel(channelId, 'self'), ...CHANNEL_TOPICS.map((t) => Topics.channel(channelId, t))];
}

export const ERROR_QUEUES = new Set(['/user/queue/errors', '/user/queue/v1/errors']);

/** `/application/v1/…` (older clients) is the same destination as `/application/…`. */
export function normalizeDestination(d: string): string {
  return d.startsWith('/application/v1/') ? `/application/${d.slice('/application/v1/'.length)}` : d;
}

/** A destination split into path and query (`…/members.relay?sort=user.displayName,asc`). */
export function splitQuery(d: string): { path: string; query: URLSearchParams } {
  const q = d.indexOf('?');
  return q < 0 ? { path: d, query: new URLSearchParams() } : { path: d.slice(0, q), query: new URLSearchParams(d.slice(q + 1)) };
}

export type TopicRef = { kind: 'user'; userId: number; topic: UserTopic } | { kind: 'channel'; channelId: number; topic: ChannelTopic };

/** Parses a topic destination of the scheme; undefined for anything else. */
export function parseTopic(destination: string): TopicRef | undefined {
  let m = /^\/topic\/users\/(\d{1,15})\/([A-Za-z]+)$/.exec(destination);
  if (m && (USER_TOPICS as readonly string[]).includes(m[2])) return { kind: 'user', userId: Number(m[1]), topic: m[2] as UserTopic };
  m = /^\/topic\/channels\/(\d{1,15})(?:\/([A-Za-z]+))?$/.exec(destination);
  if (m && (m[2] === undefined || (CHANNEL_TOPICS as readonly string[]).includes(m[2]))) {
    return { kind: 'channel', channelId: Number(m[1]), topic: (m[2] ?? 'self') as ChannelTopic };
  }
  return undefined;
}

/**
 * An application destination: `/application/<resource>[/<id>][/<sub>].<verb>` → route key and ids, e.g.
 * `/application/channels/7/messages.relay` → `{key: 'channels/:id/messages.relay', id: 7}`.
 */
export function matchDestination(destination: string): { key: string; id?: number; query: URLSearchParams } | undefined {
  const { path, query } = splitQuery(normalizeDestination(destination));
  if (!path.startsWith('/application/')) return undefined;
  const rest = path.slice('/application/'.length);
  const m = /^(channels|messages|users|threads)\/(\d{1,15})([./].*)$/.exec(rest);
  if (m) return { key: `${m[1]}/:id${m[3]}`, id: Number(m[2]), query };
  return { key: rest, query };
}

const app = (s: string) => `/application/${s}`;

export function currentUserLinks(userId: number): Json {
  const _topics: Json = {};
  for (const t of USER_TOPICS) _topics[t] = Topics.user(userId, t);
  return {
    _relays: {
      self: app('user.relay'),
      channels: app('user/channels.relay'),
      joinableChannels: app('user/joinable_channels.relay'),
      unreadChannels: app('user/unread_channels.relay'),
      channelsCount: app('user/channels_count.relay'),
      unreadChannelsCount: app('user/channels_count.relay'),
      messages: app('user/messages.relay'),
      unreadMessagesCount: app('user/unread_messages_count.relay'),
      contacts: app('user/contacts.relay'),
      contactsCount: app('user/contacts_count.relay'),
      userBlockListItems: app('user/block_list_items.relay'),
      readFileAccessGrant: app('user.read_file_access_grant.relay'),
      writeFileAccessGrant: app('user.write_file_access_grant.relay'),
    },
    _topics,
    _actions: {
      update: app('user.update'),
      createChannel: app('user.create_channel'),
      updateDisplayPicture: app('user.update_display_picture'),
      delete: app('user.delete'),
    },
    _streams: { displayPicture: '/stream/user/display_picture' },
  };
}

export function userLinks(userId: number): Json {
  return {
    _relays: { self: app(`users/${userId}.relay`), channelMember: app(`users/${userId}/channel_member.relay`) },
    _actions: { block: app(`users/${userId}.block`), delete: app(`users/${userId}.delete`) },
  };
}

/**
 * Link maps of a channel. The SDK refuses join/leave/invite/moderation locally when the key is absent, so `join` is
 * offered on PUBLIC channels and `leave`/`invite` on group channels; the gateway re-checks every action.
 */
export function channelLinks(channelId: number, type: string): Json {
  const c = `channels/${channelId}`;
  const _topics: Json = { self: Topics.channel(channelId, 'self') };
  for (const t of CHANNEL_TOPICS) _topics[t] = Topics.channel(channelId, t);
  const _relays: Json = { self: app(`${c}.relay`) };
  for (const r of ['context', 'messages', 'messagesCount', 'lastReceivedMessage', 'lastReadMessage', 'unread', 'threads', 'calls', 'blockRecords']) {
    _relays[r] = app(`${c}/${r}.relay`);
  }
  _relays.members = app(`${c}/members.relay?sort=`);
  _relays.moderators = app(`${c}/moderators.relay?sort=`);
  const _actions: Json = {};
  for (const a of ['message', 'keystrokes', 'read', 'mute', 'call', 'triggerEvent', 'update', 'delete', 'clearHistory', 'hide', 'createThread', 'block']) {
    _actions[a] = app(`${c}.${a}`);
  }
  if (type === 'PUBLIC') _actions.join = app(`${c}.join`);
  if (type !== 'DIRECT') {
    _actions.leave = app(`${c}.leave`);
    _actions.invite = app(`${c}.invite`);
    _actions.addModerator = app(`${c}.addModerator`);
    _actions.deleteModerator = app(`${c}.deleteModerator`);
  }
  return { _relays, _topics, _actions, _streams: { messages: `/stream/channels/${channelId}/messages` } };
}

export function messageLinks(messageId: number, parentId?: number): Json {
  const m = `messages/${messageId}`;
  const _relays: Json = { self: app(`${m}.relay`) };
  for (const r of ['channel', 'readReceipts', 'repliesCount', 'reportCount', 'replies', 'reactions', 'reports']) _relays[r] = app(`${m}/${r}.relay`);
  if (parentId !== undefined) _relays.parent = app(`messages/${parentId}.relay`);
  const _actions: Json = {};
  for (const a of ['read', 'unread', 'reply', 'deleteForMe', 'delete', 'react', 'edit', 'report', 'removeReport', 'removeReaction', 'updateProperties']) {
    _actions[a] = app(`${m}.${a}`);
  }
  return { _relays, _actions, _streams: { replies: `/stream/messages/${messageId}/replies` } };
}

// ---- resources as the StompX client expects them ------------------------------------------------------------------

export function stompUser(u: Json): Json {
  return { ...u, ...userLinks(Number(u.id)) };
}

export function stompCurrentUser(u: Json): Json {
  return { ...u, ...currentUserLinks(Number(u.id)) };
}

export function stompChannel(c: Json): Json {
  const out: Json = { ...c, ...channelLinks(Number(c.id), String(c.type)) };
  if (c.creator) out.creator = stompUser(c.creator as Json);
  if (Array.isArray(c.members)) out.members = (c.members as Json[]).map(stompUser);
  if (c.lastReceivedMessage) out.lastReceivedMessage = stompMessage(c.lastReceivedMessage as Json);
  return out;
}

export function stompMessage(m: Json): Json {
  const parentId = m.parentId === undefined || m.parentId === null ? undefined : Number(m.parentId);
  const out: Json = { links: [], reactions: [], ...m, ...messageLinks(Number(m.id), parentId) };
  if (m.user) out.user = stompUser(m.user as Json);
  return out;
}

export function stompReadReceipt(user: Json, createdTime: string, messageId: number): Json {
  return { user: stompUser(user), createdTime, _relays: { message: app(`messages/${messageId}.relay`) } };
}

/** A HAL-like StompX page: `_relays` must always be present (the client reads `_relays.prev` unguarded). */
export function stompPage(contentName: string, items: Json[], relay: string, opts: { total?: number; next?: string; size?: number } = {}): Json {
  const size = opts.size ?? 25;
  const total = opts.total ?? items.length;
  const _relays: Json = { first: relay, self: relay, last: relay };
  if (opts.next) _relays.next = opts.next;
  return {
    _embedded: { [contentName]: items },
    page: { size, totalElements: total, totalPages: Math.max(1, Math.ceil(total / size)), number: 0 },
    _relays,
  };
}
