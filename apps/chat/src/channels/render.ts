import { selfLinks } from '../shared/hal';
import { ChannelRes, MessageRes, UserRes } from './resources';
import { toWire } from './wire-format';

/** HTTP renderings (wire shape + HAL links) of the messaging resources. `base` is `ApiLinks.base`. */
export function channelOut(c: ChannelRes, base: string): Record<string, unknown> {
  const p = `/channels/${c.id}`;
  return {
    ...toWire<Record<string, unknown>>(c),
    _links: selfLinks(base, p, {
      messages: `${p}/messages`,
      members: `${p}/members`,
      moderators: `${p}/moderators`,
      participants: `${p}/participants`,
      invites: `${p}/invites`,
      events: `${p}/events`,
      keystrokes: `${p}/keystrokes`,
    }),
  };
}

export function userOut(u: UserRes, base: string): Record<string, unknown> {
  return { ...toWire<Record<string, unknown>>(u), _links: selfLinks(base, `/users/${u.id}`) };
}

export function messageOut(m: MessageRes, base: string): Record<string, unknown> {
  const p = `/messages/${m.id}`;
  const extra: Record<string, string> = {
    channel: `/channels/${m.channelId}`,
    replies: `/threads/${m.id}/messages`,
    thread: `/threads/${m.id}`,
    readReceipts: `${p}/read-receipts`,
  };
  if (m.parentId !== undefined) extra.parent = `/messages/${m.parentId}`;
  return { ...toWire<Record<string, unknown>>(m), _links: selfLinks(base, p, extra) };
}
