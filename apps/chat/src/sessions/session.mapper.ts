import { HalLinks, selfLinks } from '../shared/hal';
import { UserEntity } from '../users/user.entity';
import { ChatUserProperties, toChatUserProperties } from '../users/user.mapper';
import { ChatSessionEntity } from './chat-session.entity';
import { SessionState, UserSessionEntity } from './user-session.entity';

/** The SDK's `ChatUserSessionProperties`. */
export interface ChatUserSessionProperties {
  id: number;
  created_time: string;
  end_time?: string;
  state: SessionState;
  user: ChatUserProperties;
  user_agent?: string;
}

export function toUserSessionProperties(s: UserSessionEntity, user: UserEntity): ChatUserSessionProperties {
  const p: ChatUserSessionProperties = {
    id: s.id,
    created_time: s.createdTime.toISOString(),
    state: s.state,
    user: toChatUserProperties(user),
  };
  if (s.endTime) p.end_time = s.endTime.toISOString();
  if (s.userAgent) p.user_agent = s.userAgent;
  return p;
}

/** `ChatUserSessionResource`. */
export function toUserSessionResource(s: UserSessionEntity, user: UserEntity, base: string) {
  return { ...toUserSessionProperties(s, user), _links: selfLinks(base, `/user-sessions/${s.id}`) as HalLinks };
}

/** `ChatSessionResource`. */
export function toChatSessionResource(c: ChatSessionEntity, session: UserSessionEntity, user: UserEntity, base: string) {
  const r: Record<string, unknown> = {
    id: c.id,
    created_time: c.createdTime.toISOString(),
    session: toUserSessionProperties(session, user),
    state: c.state,
  };
  if (c.endTime) r.end_time = c.endTime.toISOString();
  r._links = selfLinks(base, `/chat-sessions/${c.id}`, { channel: `/channels/${c.channelId}` });
  return r;
}
