import { ChatKitty } from 'chatkitty';
import { startTestServer, TestApplication, TestServer, waitFor } from '@chatfn/testing';
import { deploy, environment, installWebSocket, invocations, Json } from './gateway-helpers';

installWebSocket();
// Loaded after the WebSocket global exists (the SDK checks it when a session starts, not at import; kept simple).
const core = require('@chatkitty/core') as typeof import('@chatkitty/core');

jest.setTimeout(180_000);

/**
 * The real-time gateway end to end: the unmodified @chatkitty/core 2.106.2 client (with `ws` as its WebSocket) against
 * the all-in-one server; chat functions deployed with the chatkitty SDK run on the process driver.
 */
describe('real-time gateway (@chatkitty/core 2.106.2 over STOMP)', () => {
  let server: TestServer;
  let app: TestApplication;
  let ck: ChatKitty;
  const fns: Record<string, number> = {};
  const connections: { dispose(): Promise<void> }[] = [];

  const connect = async (username: string, password: string) => {
    const c = await core.connectApi({ apiKey: app.api_key, username, authParams: { password }, $environment: environment(server) as never });
    connections.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startTestServer({ env: { LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn' } });
    app = await server.createApplication();
    ck = new ChatKitty(server.sdkConfig(app));
    await ck.ApplicationApi.updateApplicationSettings({ guest_users: 'DISABLED', user_created_channels: 'ENABLED' } as never);
    fns.startSession = await deploy(
      server,
      ck,
      'user.attempted.start_session',
      `async function handleEvent(event, context) {
         if (event.authParams.password !== 'secret-' + event.username) throw new Error('Invalid credentials for ' + event.username);
         return { allowed: event.username };
       }`,
    );
    for (const type of ['user.started.chat_session', 'user.read.message', 'user.triggered.event', 'user.received.notification']) {
      fns[type] = await deploy(server, ck, type, `async function handleEvent(event) { return { seen: '${type}', event }; }`);
    }
  });

  afterAll(async () => {
    for (const c of connections) await c.dispose().catch(() => undefined);
    await server?.close();
  });

  it('runs a whole chat: sessions (allowed and denied), channels, live messages, read receipts, custom events, notifications', async () => {
    // --- sessions: alice and bob are allowed by the start_session function, mallory is denied with its message
    const alice = await connect('alice', 'secret-alice');
    expect(alice.user.value.name).toBe('alice');
    const a = alice.getSdkClient();
    const mallory = core.getSdkClient(app.api_key, { $environment: environment(server) as never });
    const denied = (await mallory.startSession({ username: 'mallory', authParams: { password: 'guess' } })) as unknown as { failed: boolean; error: Json };
    expect(denied.failed).toBe(true);
    expect(denied.error.error).toBe('AccessDeniedError');
    expect(String(denied.error.message)).toContain('Invalid credentials for mallory');
    const bob = await connect('bob', 'secret-bob');
    const b = bob.getSdkClient();

    const sessions = (await ck.UserSessionsApi.listUserSessions(0, 25, undefined, 'ACTIVE')).data as unknown as { _embedded: { sessions: Json[] } };
    const active = sessions._embedded.sessions.map((s) => [(s.user as Json).name, s.state, s.user_agent]);
    expect(active).toEqual(expect.arrayContaining([['alice', 'ACTIVE', 'ChatKitty-ChatUI/2.106.2'], ['bob', 'ACTIVE', 'ChatKitty-ChatUI/2.106.2']]));
    expect(active.some(([name]) => name === 'mallory')).toBe(false);
    const aliceUser = (await ck.UsersApi.listUsers(0, 5, undefined, 'alice')).data as unknown as { _embedded: { users: Json[] } };
    expect((aliceUser._embedded.users[0].presence as Json).online).toBe(true);

    // --- carol is a member who never connects (offline), created through the Platform API
    const carol = (await ck.UsersApi.createUser({ name: 'carol', display_name: 'Carol', is_guest: false } as never)).data as unknown as { id: number };

    // --- alice creates a public channel; bob finds it among the joinable channels and joins
    const created = (await a.createChannel({ type: 'PUBLIC', name: 'general', displayName: 'General' } as never)) as unknown as { succeeded: boolean; channel: Json };
    expect(created.succeeded).toBe(true);
    const channel = created.channel as never as { id: number; name: string };
    await ck.ChannelsApi.addChannelMember(channel.id, { id: carol.id } as never);
    const joinable = (await b.listChannels({ filter: { joined: false } })) as unknown as { succeeded: boolean; paginator: { items: Json[] } };
    expect(joinable.paginator.items.map((c) => c.name)).toContain('general');
    const joined = (await b.joinChannel({ channel: joinable.paginator.items.find((c) => c.name === 'general') } as never)) as unknown as { succeeded: boolean };
    expect(joined.succeeded).toBe(true);
    const bobsChannels = (await b.listChannels({ filter: { joined: true } })) as unknown as { paginator: { items: Json[] } };
    expect(bobsChannels.paginator.items.map((c) => c.id)).toContain(channel.id);

    // --- both enter the channel (chat sessions)
    const aliceGot: Json[] = [];
    const aliceReads: Json[] = [];
    const aliceEvents: Json[] = [];
    const bobGot: Json[] = [];
    const bobNotifications: Json[] = [];
    const aSession = a.startChatSession({
      channel,
      onMessageReceived: (m: Json) => aliceGot.push(m),
      onMessageRead: (m: Json, r: Json) => aliceReads.push({ m, r }),
      onEventTriggered: (e: Json) => aliceEvents.push(e),
    } as never) as unknown as { succeeded: boolean };
    expect(aSession.succeeded).toBe(true);
    const bSession = b.startChatSession({ channel, onMessageReceived: (m: Json) => bobGot.push(m) } as never) as unknown as { session: { end(): void } };
    b.onNotificationReceived((n) => void bobNotifications.push(n as unknown as Json));
    await waitFor(async () => {
      const list = (await ck.ChatSessionsApi.listChatSessions(0, 25, undefined, 'ACTIVE')).data as unknown as { _embedded?: { sessions: Json[] } };
      return (list._embedded?.sessions.length ?? 0) >= 2;
    }, { what: 'two active chat sessions' });

    // --- alice sends; both receive it live; bob lists messages
    const sent = (await a.sendMessage({ channel, body: 'hello bob' } as never)) as unknown as { succeeded: boolean; message: Json };
    expect(sent.succeeded).toBe(true);
    expect(sent.message.body).toBe('hello bob');
    await waitFor(() => bobGot.some((m) => m.body === 'hello bob'), { what: 'bob receiving the message live' });
    await waitFor(() => aliceGot.some((m) => m.body === 'hello bob'), { what: 'alice receiving her own message' });
    const received = bobGot.find((m) => m.body === 'hello bob')!;
    expect((received.user as Json).name).toBe('alice');
    const listed = (await b.listMessages({ channel } as never)) as unknown as { succeeded: boolean; paginator: { items: Json[] } };
    expect(listed.paginator.items.map((m) => m.body)).toContain('hello bob');

    // --- bob reads it: alice sees the read receipt live
    const read = (await b.readMessage({ message: received } as never)) as unknown as { succeeded: boolean };
    expect(read.succeeded).toBe(true);
    await waitFor(() => aliceReads.length > 0, { what: 'alice seeing the read receipt' });
    expect(((aliceReads[0].r as Json).user as Json).name).toBe('bob');

    // --- bob triggers a custom event: alice receives it live
    const triggered = (await b.triggerEvent({ channel, type: 'wave', properties: { hand: 'right' } } as never)) as unknown as { succeeded: boolean };
    expect(triggered.succeeded).toBe(true);
    await waitFor(() => aliceEvents.length > 0, { what: 'alice receiving the custom event' });
    expect(aliceEvents[0]).toMatchObject({ type: 'wave', properties: { hand: 'right' } });

    // --- alice sends three more; bob sees the channel unread, reads the whole channel, and it is read everywhere
    const more: Json[] = [];
    for (const body of ['one', 'two', 'three']) more.push(((await a.sendMessage({ channel, body } as never)) as unknown as { message: Json }).message);
    const bobId = (await ck.UsersApi.listUsers(0, 1, undefined, 'bob')).data._embedded!.users![0].id;
    expect(((await b.checkChannelUnread({ channel } as never)) as unknown as { unread: boolean }).unread).toBe(true);
    expect(((await b.countUnreadMessages({ channel } as never)) as unknown as { count: number }).count).toBe(3);
    expect((await ck.UsersApi.countUserUnreadMessages(bobId)).data.count).toBe(3);
    const readAll = (await b.readChannel({ channel } as never)) as unknown as { succeeded: boolean };
    expect(readAll.succeeded).toBe(true);
    expect(((await b.checkChannelUnread({ channel } as never)) as unknown as { unread: boolean }).unread).toBe(false);
    expect((await ck.UsersApi.countUserUnreadMessages(bobId)).data.count).toBe(0);
    for (const m of more) {
      const receipts = (await ck.MessagesApi.listMessageReadReceipts(m.id as number)).data as unknown as { _embedded?: { receipts: Json[] } };
      expect((receipts._embedded?.receipts ?? []).map((r) => (r.user as Json).name)).toContain('bob');
    }
    const lastRead = (await b.retrieveLastReadMessage({ channel, username: 'bob' } as never)) as unknown as { message?: Json };
    expect(lastRead.message?.id).toBe(more[2].id);

    // --- bob leaves the chat (still online): alice's next message notifies bob live and carol (offline) through the trigger
    bSession.session.end();
    await waitFor(async () => {
      const list = (await ck.ChatSessionsApi.listChatSessions(0, 25, undefined, 'ACTIVE')).data as unknown as { _embedded?: { sessions: Json[] } };
      return (list._embedded?.sessions.length ?? 0) === 1;
    }, { what: "bob's chat session to end" });
    await a.sendMessage({ channel, body: 'are you there?' } as never);
    await waitFor(() => bobNotifications.length > 0, { what: 'bob receiving a live notification' });
    expect(bobNotifications[0]).toMatchObject({ data: { type: 'USER:SENT:MESSAGE' } });
    expect(((bobNotifications[0].data as Json).message as Json).body).toBe('are you there?');

    // --- every client-side trigger ran its function: SUCCEEDED invocations
    const succeeded = async (type: string, pred: (i: Json) => boolean = () => true) =>
      waitFor(async () => (await invocations(ck, fns[type])).find((i) => i.status === 'SUCCEEDED' && pred(i)), {
        timeoutMs: 30_000,
        what: `a SUCCEEDED ${type} invocation`,
      });
    await succeeded('startSession', (i) => JSON.stringify(i.result).includes('alice'));
    const failed = await waitFor(async () => (await invocations(ck, fns.startSession)).find((i) => i.status === 'FAILED'), { what: 'the denied start' });
    expect(JSON.stringify(failed)).toContain('Invalid credentials for mallory');
    const chatStarted = await succeeded('user.started.chat_session');
    expect(JSON.stringify(chatStarted.args)).toContain('"channelMessagesCount"');
    await succeeded('user.read.message', (i) => JSON.stringify(i.args).includes('hello bob'));
    await succeeded('user.triggered.event', (i) => JSON.stringify(i.args).includes('"wave"'));
    const carolNotified = await succeeded('user.received.notification', (i) => ((i.args as Json).user as Json).name === 'carol');
    expect((carolNotified.args as Json).userHasActiveSession).toBe(false);
    const bobNotified = await succeeded('user.received.notification', (i) => ((i.args as Json).user as Json).name === 'bob');
    expect((bobNotified.args as Json).userHasActiveSession).toBe(true);

    // --- update the current user through the gateway
    const updated = (await b.updateCurrentUser((u) => ({ ...u, displayName: 'Bobby' }))) as unknown as { succeeded: boolean; user: Json };
    expect(updated.succeeded).toBe(true);
    expect(updated.user.displayName).toBe('Bobby');

    // --- unsupported operations fail cleanly (an error result, not a hang or a crash)
    const muted = (await b.muteChannel({ channel } as never)) as unknown as { failed: boolean; error: Json };
    expect(muted.failed).toBe(true);
    expect(muted.error.error).toBe('UnsupportedOperationError');

    // --- ending the session ends the user session and the user goes offline
    await alice.dispose();
    await waitFor(async () => {
      const u = (await ck.UsersApi.listUsers(0, 5, undefined, 'alice')).data as unknown as { _embedded: { users: Json[] } };
      return (u._embedded.users[0].presence as Json).online === false;
    }, { what: 'alice offline' });
    const ended = (await ck.UserSessionsApi.listUserSessions(0, 25, undefined, 'ENDED')).data as unknown as { _embedded?: { sessions: Json[] } };
    expect(ended._embedded?.sessions.some((s) => (s.user as Json).name === 'alice' && s.end_time)).toBe(true);
  });
});
