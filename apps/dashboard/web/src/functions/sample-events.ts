/** Realistic sample `event` payloads per trigger type (shapes of chatfn's trigger catalogue). */
const now = '2026-01-15T10:24:00.000Z';
const user = {
  id: 1,
  type: 'PERSON',
  name: 'jane@example.com',
  display_name: 'Jane',
  display_picture_url: 'https://api.dicebear.com/7.x/initials/svg?seed=Jane',
  isGuest: false,
  presence: { online: true, status: 'AVAILABLE' },
  properties: {},
};
const bob = { ...user, id: 2, name: 'bob@example.com', display_name: 'Bob', display_picture_url: undefined };
const channel = { id: 10, type: 'PUBLIC', name: 'general', display_name: 'General', created_time: now, properties: {} };
const message = {
  id: 100,
  type: 'TEXT',
  body: 'Hello, world!',
  channel_id: 10,
  user,
  created_time: now,
  nested_level: 0,
  properties: {},
};

export const SAMPLE_EVENTS: Record<string, Record<string, unknown>> = {
  'user.attempted.start_session': { username: 'jane@example.com', authParams: { token: 'sample-token' } },
  'user.attempted.send_message': { user, channel, message: { type: 'TEXT', body: 'Hello, world!', properties: {} } },
  'user.received.notification': {
    user: bob,
    notification: {
      id: 5,
      title: 'Jane sent a message',
      body: 'Hello, world!',
      data: { type: 'USER:SENT:MESSAGE', message, channel_id: 10 },
      muted: false,
      created_time: now,
    },
    userHasActiveSession: false,
  },
  'user.sent.message': { user, channel, message },
  'user.started.chat_session': { user, channel, channelUnread: true, channelMessagesCount: 42 },
  'user.read.message': { user: bob, message, receipt: { user: bob, created_time: now } },
  'user.received.channel_invite': { user: bob, channel, invitingUser: user },
  'user.triggered.event': { user, channel, event: { type: 'typing.started', properties: { draft: true }, user } },
  'system.triggered.event': { channel, event: { type: 'order.shipped', properties: { orderId: 'A-1042' } } },
};

export function sampleEvent(trigger: string): string {
  return JSON.stringify(SAMPLE_EVENTS[trigger] ?? {}, null, 2);
}

/** The starting script for a function without versions: typed `event` and `context`, a logged line, a result. */
export function starterScript(trigger: string, blocking: boolean): string {
  const body = blocking
    ? trigger === 'user.attempted.send_message'
      ? `  // Throw to reject the message; return { body, properties } to change it.
  if (event.message.body?.includes('forbidden')) throw new Error('This message is not allowed');
  return { body: event.message.body };`
      : `  // Throw to deny the session.
  console.log('session attempt by', event.username);
  return { username: event.username };`
    : `  console.log('${trigger} received', JSON.stringify(event).length, 'bytes');
  return { ok: true };`;
  return `async function handleEvent(event: ChatFunctionEvent, context: ChatFunctionContext) {
${body}
}
`;
}
