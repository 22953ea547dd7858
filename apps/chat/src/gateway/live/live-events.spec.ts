import { liveEventsOf } from './live-events.consumer';

// Event data as recorded: the Platform API's wire format (snake_case resources).
const user = { id: 7, name: 'bob', display_name: 'Bob' };
const channel = { id: 3, type: 'PUBLIC', name: 'general' };
const message = { id: 11, type: 'TEXT', channel_id: 3, parent_id: undefined, body: 'hi', user: { id: 5, name: 'alice' } };
const ev = (type: string, data: Record<string, unknown>, channelId: number | undefined = 3) => ({ applicationId: 1, type, depth: 0, data, channelId });

describe('liveEventsOf', () => {
  it('maps a sent message to channel.message.created with StompX links', () => {
    const [e] = liveEventsOf(ev('user.sent.message', { user, channel, message }));
    expect(e.topic).toBe('/topic/channels/3/messages');
    expect(e.type).toBe('channel.message.created');
    expect(e.resource).toMatchObject({ id: 11, body: 'hi', links: [], _actions: { read: '/application/messages/11.read' }, user: { _relays: { self: '/application/users/5.relay' } } });
  });

  it('maps system messages, read receipts (channel, reader, author), events and notifications', () => {
    expect(liveEventsOf(ev('system.sent.message', { channel, message: { ...message, user: undefined } }))[0].type).toBe('channel.message.created');
    const reads = liveEventsOf(ev('user.read.message', { user, message, receipt: { user, created_time: '2026-01-01T00:00:00.000Z' } }));
    expect(reads.map((r) => r.topic)).toEqual(['/topic/channels/3/readReceipts', '/topic/users/7/readReceipts', '/topic/users/5/readReceipts']);
    expect(reads[0].resource).toMatchObject({ user: { name: 'bob' }, _relays: { message: '/application/messages/11.relay' } });
    const [custom] = liveEventsOf(ev('user.triggered.event', { user, channel, event: { type: 'wave', properties: { a: 1 } } }));
    expect(custom).toMatchObject({ topic: '/topic/channels/3/events', type: 'channel.event.triggered', resource: { type: 'wave', properties: { a: 1 } } });
    const [n] = liveEventsOf(ev('user.received.notification', { user, notification: { id: 1, title: 't', body: 'b', data: { type: 'USER:SENT:MESSAGE', message }, channel } }));
    expect(n).toMatchObject({ topic: '/topic/users/7/notifications', type: 'user.notification.created', resource: { data: { recipient: { id: 7 } }, readTime: null } });
  });

  it('maps membership and user changes, ignores what the client has no event for', () => {
    expect(liveEventsOf(ev('channel.member.added', { user, channel })).map((e) => e.type)).toEqual(['channel.member.joined', 'user.channel.joined']);
    expect(liveEventsOf(ev('channel.member.removed', { user, channel })).map((e) => e.type)).toEqual(['channel.member.left', 'me.channel.left']);
    const [u] = liveEventsOf(ev('user.updated', { user: { id: 7, name: 'bob', display_name: 'Bobby' } }, undefined));
    expect(u).toMatchObject({ topic: '/topic/users/7/self', type: 'user.self.updated', resource: { displayName: 'Bobby', _actions: { update: '/application/user.update' } } });
    expect(liveEventsOf(ev('user.created', { user }, undefined))).toEqual([]);
  });
});
