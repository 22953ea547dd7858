import { ChatKitty } from 'chatkitty';
import { startTestServer, TestApplication, TestServer, waitFor } from '@chatfn/testing';
import { GatewaySessionsService } from '../../apps/chat/src/gateway/sessions/gateway-sessions.service';
import { RawStompClient } from './stomp-test-client';

jest.setTimeout(120_000);

/** Protocol robustness: bad credentials and bad input get an ERROR frame or an error-queue message, never a crash. */
describe('real-time gateway protocol edges', () => {
  let server: TestServer;
  let app: TestApplication;
  let ck: ChatKitty;
  const clients: RawStompClient[] = [];
  const open = async (apiKey = app.api_key) => {
    const c = await RawStompClient.open(server.url, apiKey);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startTestServer({ env: { CHATFN_GATEWAY_MAX_FRAME_BYTES: '2048', CHATFN_GATEWAY_RATE: '5' } });
    app = await server.createApplication();
    ck = new ChatKitty(server.sdkConfig(app));
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.close();
  });

  it('answers the v12.stomp subprotocol, refuses a bad API key and disabled guests with AccessDeniedError', async () => {
    const bad = await open('nope');
    expect(bad.ws.protocol).toBe('v12.stomp');
    const denied = await bad.connect('alice');
    expect(denied.command).toBe('ERROR');
    expect(JSON.parse(denied.body)).toMatchObject({ error: 'AccessDeniedError', message: 'Invalid API key' });
    await waitFor(() => bad.closed, { what: 'the socket to close' });

    const guest = await open();
    const noGuests = await guest.connect('alice');
    expect(JSON.parse(noGuests.body).message).toMatch(/Guest users are disabled/);
  });

  it('starts a guest session when guests are enabled; bad frames and requests are answered, not crashed on', async () => {
    await ck.ApplicationApi.updateApplicationSettings({ guest_users: 'ENABLED', user_created_channels: 'DISABLED' } as never);
    const c = await open();
    const connected = await c.connect('guest-1', { 'StompX-User-Agent': 'raw-test/1' });
    expect(connected.command).toBe('CONNECTED');
    expect(connected.headers).toMatchObject({ version: '1.2' });
    c.frame('SUBSCRIBE', { id: 'e', destination: '/user/queue/errors' });

    // relay errors are correlated by subscription-id, action errors by receipt-id
    c.frame('SUBSCRIBE', { id: 'r1', destination: '/application/channels/999999.relay' });
    const relayError = await c.next((f) => f.headers['subscription-id'] === 'r1');
    expect(JSON.parse(relayError.body).error).toBe('ResourceNotFoundError');
    c.frame('SEND', { destination: '/application/user.create_channel', receipt: 'x1' }, '{"type":"PUBLIC","name":"nope"}');
    expect(JSON.parse((await c.next((f) => f.headers['receipt-id'] === 'x1')).body).error).toBe('AccessDeniedError');
    c.frame('SEND', { destination: '/application/channels/1.message', receipt: 'x2' }, '{not json');
    expect(JSON.parse((await c.next((f) => f.headers['receipt-id'] === 'x2')).body).error).toBe('InvalidRequestError');
    // Text PostgreSQL cannot store (a NUL, an unpaired surrogate) is named, as over HTTP, before anything else.
    c.frame('SEND', { destination: '/application/channels/1.message', receipt: 'x2n' }, '{"type":"TEXT","body":"a\\u0000b"}');
    expect(JSON.parse((await c.next((f) => f.headers['receipt-id'] === 'x2n')).body)).toMatchObject({ error: 'InvalidRequestError', message: expect.stringMatching(/^body: must not contain NUL/) });
    c.frame('SEND', { destination: '/application/channels/1.message', receipt: 'x2s' }, '{"type":"TEXT","body":"ok","properties":{"k":"\\udc00"}}');
    expect(JSON.parse((await c.next((f) => f.headers['receipt-id'] === 'x2s')).body).message).toMatch(/^properties\.k: must not contain/);
    c.frame('SEND', { destination: '/application/nothing.here', receipt: 'x3' }, '{}');
    expect(JSON.parse((await c.next((f) => f.headers['receipt-id'] === 'x3')).body).error).toBe('UnsupportedOperationError');
    // rate limit: 5/s with a burst of 10
    for (let i = 0; i < 15; i++) c.frame('SEND', { destination: '/application/nothing.here', receipt: `rl${i}` }, '{}');
    const limited = await c.next((f) => f.body.includes('RateLimitedError'));
    expect(JSON.parse(limited.body).coolOffDuration).toBe('PT1S');
    // unknown topics get a RECEIPT and stay silent
    c.frame('SUBSCRIBE', { id: 't1', destination: '/topic/users/424242/self', receipt: 'rt' });
    await c.next((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === 'rt');
    expect(c.closed).toBe(false);

    // an oversize frame closes with an ERROR frame; the server keeps serving others
    c.send(`SEND\ndestination:/application/x\n\n${'x'.repeat(4096)}\0`);
    const tooBig = await c.next((f) => f.command === 'ERROR');
    expect(tooBig.body).toMatch(/larger than 2048 bytes/);
    await waitFor(() => c.closed, { what: 'the oversize client to be closed' });

    const garbage = await open();
    garbage.send('HELLO\n\n\0');
    expect((await garbage.next((f) => f.command === 'ERROR')).body).toMatch(/unknown command/);
    const early = await open();
    early.frame('SEND', { destination: '/application/x' }, '{}');
    expect((await early.next((f) => f.command === 'ERROR')).body).toMatch(/before CONNECT/);

    const sessions = (await ck.UserSessionsApi.listUserSessions(0, 25)).data as unknown as { _embedded: { sessions: { user: { name: string }; user_agent?: string; state: string }[] } };
    const mine = sessions._embedded.sessions.find((s) => s.user.name === 'guest-1');
    expect(mine).toMatchObject({ user_agent: 'raw-test/1' });
    await waitFor(async () => {
      const s = (await ck.UserSessionsApi.listUserSessions(0, 25, undefined, 'ENDED')).data as unknown as { _embedded?: { sessions: { user: { name: string } }[] } };
      return s._embedded?.sessions.some((x) => x.user.name === 'guest-1');
    }, { what: 'the closed session to end' });
    const users = (await ck.UsersApi.listUsers(0, 5, undefined, 'guest-1')).data as unknown as { _embedded: { users: { isGuest: boolean }[] } };
    expect(users._embedded.users[0].isGuest).toBe(true);
  });

  it('closes a deleted user’s connections with an AccessDeniedError and ends their sessions; others stay', async () => {
    await ck.ApplicationApi.updateApplicationSettings({ guest_users: 'ENABLED', user_created_channels: 'DISABLED' } as never);
    const doomed = [await open(), await open()];
    for (const c of doomed) expect((await c.connect('doomed')).command).toBe('CONNECTED');
    const bystander = await open();
    expect((await bystander.connect('bystander')).command).toBe('CONNECTED');
    const users = (await ck.UsersApi.listUsers(0, 5, undefined, 'doomed')).data as unknown as { _embedded: { users: { id: number }[] } };
    await ck.UsersApi.deleteUser(users._embedded.users[0].id);

    for (const c of doomed) {
      const error = await c.next((f) => f.command === 'ERROR');
      expect(JSON.parse(error.body)).toMatchObject({ error: 'AccessDeniedError', message: 'The user was deleted' });
      await waitFor(() => c.closed, { what: 'the deleted user’s socket to close' });
    }
    await waitFor(async () => {
      const s = (await ck.UserSessionsApi.listUserSessions(0, 50, undefined, 'ACTIVE')).data as unknown as { _embedded?: { sessions: { user: { name: string } }[] } };
      return !(s._embedded?.sessions ?? []).some((x) => x.user.name === 'doomed');
    }, { what: 'the deleted user’s sessions to end' });
    // Another user's connection is untouched and still answers.
    bystander.frame('SUBSCRIBE', { id: 'rb', destination: '/topic/users/1/self', receipt: 'still' });
    await bystander.next((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === 'still');
    expect(bystander.closed).toBe(false);
  });

  it("ends the sessions of a gateway instance that stopped heartbeating", async () => {
    const c = await open();
    await c.connect('guest-2');
    const db = server.app.get(GatewaySessionsService, { strict: false });
    const ds = (db as unknown as { db: { query(sql: string, args?: unknown[]): Promise<unknown> } }).db;
    // guest-2's session, moved to a "ghost" instance whose last heartbeat is a minute old (it crashed)
    await ds.query(`INSERT INTO gateway_instances (id, heartbeat_time) VALUES ('ghost', now() - interval '1 minute')`);
    await ds.query(
      `UPDATE user_sessions SET gateway_instance = 'ghost' WHERE state = 'ACTIVE' AND user_id = (SELECT id FROM users WHERE name = 'guest-2')`,
    );
    expect(await db.heartbeat()).toBe(1);
    const s = (await ck.UserSessionsApi.listUserSessions(0, 25, undefined, 'ACTIVE')).data as unknown as { _embedded?: { sessions: { user: { name: string } }[] } };
    expect(s._embedded?.sessions.some((x) => x.user.name === 'guest-2') ?? false).toBe(false);
  });

  it('starts concurrent sessions together (group commit), each with its own row, resume token and presence', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `storm-${i}`);
    // Two connections per user, all at once: the session starts share batches.
    const conns = await Promise.all([...names, ...names].map(() => open()));
    const connected = await Promise.all(conns.map((c, i) => c.connect(names[i % names.length], { 'StompX-User-Agent': `storm/${i}` })));
    expect(connected.map((f) => f.command)).toEqual(conns.map(() => 'CONNECTED'));
    const tokens = connected.map((f) => f.headers.session);
    expect(new Set(tokens).size).toBe(conns.length);
    const list = (await ck.UserSessionsApi.listUserSessions(0, 100, undefined, 'ACTIVE')).data as unknown as {
      _embedded: { sessions: { user: { name: string }; user_agent?: string }[] };
    };
    const storm = list._embedded.sessions.filter((s) => s.user.name.startsWith('storm-'));
    expect(storm.map((s) => `${s.user.name} ${s.user_agent}`).sort()).toEqual(conns.map((_, i) => `${names[i % names.length]} storm/${i}`).sort());
    for (const name of names) {
      const u = (await ck.UsersApi.listUsers(0, 5, undefined, name)).data as unknown as {
        _embedded: { users: { isGuest: boolean; presence: { online: boolean; status: string } }[] };
      };
      expect(u._embedded.users).toHaveLength(1);
      expect(u._embedded.users[0]).toMatchObject({ isGuest: true, presence: { online: true, status: 'AVAILABLE' } });
    }
    // Each new user was created once, with its user.created event (as the Platform API records it).
    const ds = (server.app.get(GatewaySessionsService, { strict: false }) as unknown as { db: { query(sql: string, args?: unknown[]): Promise<{ name: string }[]> } }).db;
    const created = await ds.query(`SELECT data->'data'->'user'->>'name' AS name FROM events WHERE type = 'user.created' AND data->'data'->'user'->>'name' LIKE 'storm-%'`);
    expect(created.map((e) => e.name).sort()).toEqual([...names].sort());
    // A reconnect with a resume token resumes that very session.
    conns[0].close();
    await waitFor(async () => {
      const s = (await ck.UserSessionsApi.listUserSessions(0, 100, undefined, 'ENDED')).data as unknown as { _embedded?: { sessions: { user: { name: string } }[] } };
      return s._embedded?.sessions.some((x) => x.user.name === 'storm-0');
    }, { what: 'the closed storm session to end' });
    const again = await open();
    expect((await again.connect('storm-0', { 'StompX-Auth-Session-ID': tokens[0] })).headers.session).toBe(tokens[0]);
  });
});
