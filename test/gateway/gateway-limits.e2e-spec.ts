import { ChatKitty } from 'chatkitty';
import { startTestServer, TestApplication, TestServer, waitFor } from '@chatfn/testing';
import { GatewayServer } from '../../apps/chat/src/gateway/gateway.server';
import { TopicHub } from '../../apps/chat/src/gateway/topic-hub';
import { RawStompClient } from './stomp-test-client';

jest.setTimeout(120_000);

/** Limits: floods, oversize frames and too many subscriptions end one connection with an ERROR frame or a close code. */
describe('real-time gateway limits', () => {
  let server: TestServer;
  let app: TestApplication;
  const clients: RawStompClient[] = [];
  const connected = async (name: string) => {
    const c = await RawStompClient.open(server.url, app.api_key);
    clients.push(c);
    expect((await c.connect(name)).command).toBe('CONNECTED');
    c.frame('SUBSCRIBE', { id: 'e', destination: '/user/queue/errors' });
    return c;
  };
  /** The server still serves: a new client starts a session and gets a relay answered. */
  const stillServing = async () => {
    const c = await connected(`probe-${clients.length}`);
    c.frame('SUBSCRIBE', { id: 'me', destination: '/application/v1/user.relay' });
    expect((await c.next((f) => f.command === 'MESSAGE' && f.headers.subscription === 'me')).body).toContain('"resource"');
  };

  beforeAll(async () => {
    server = await startTestServer({ env: { CHATFN_GATEWAY_MAX_FRAME_BYTES: '2048', CHATFN_GATEWAY_RATE: '5', CHATFN_GATEWAY_MAX_CONNECTIONS: '40' } });
    app = await server.createApplication();
    await new ChatKitty(server.sdkConfig(app)).ApplicationApi.updateApplicationSettings({ guest_users: 'ENABLED', user_created_channels: 'DISABLED' } as never);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.close();
  });

  it('closes a connection that floods frames faster than they are handled, with an ERROR frame', async () => {
    const c = await connected('flooder');
    const send = (i: number) => `SEND\ndestination:/application/channels/1.message\nreceipt:f${i}\n\n{"type":"TEXT","body":"x"}\0`;
    // 600 frames in one WebSocket message (under its 64 KiB limit): over the 500 a connection may have waiting.
    c.send(Array.from({ length: 600 }, (_, i) => send(i)).join(''));
    const error = await c.next((f) => f.command === 'ERROR');
    expect(JSON.parse(error.body)).toMatchObject({ error: 'InvalidFrameError', message: expect.stringMatching(/More than 500 frames waiting/) });
    await waitFor(() => c.closed, { what: 'the flooder to be closed' });
    await stillServing();
  });

  it('answers frames over the rate with RateLimitedError and keeps the connection', async () => {
    const c = await connected('eager');
    for (let i = 0; i < 60; i++) c.frame('SEND', { destination: '/application/nothing.here', receipt: `r${i}` }, '{}');
    await c.next((f) => f.headers['receipt-id'] === 'r59');
    const limited = c.frames.filter((f) => f.body.includes('RateLimitedError'));
    // a burst of 10 (2 × 5/s) gets through; the rest is refused with a cool-off
    expect(limited.length).toBeGreaterThanOrEqual(45);
    expect(JSON.parse(limited[0].body)).toMatchObject({ error: 'RateLimitedError', coolOffDuration: 'PT1S' });
    expect(c.closed).toBe(false);
    // starting chat sessions (SUBSCRIBE /topic/channels/:id) is rate limited too, correlated by subscription id
    for (let i = 0; i < 5; i++) c.frame('SUBSCRIBE', { id: `cs${i}`, destination: `/topic/channels/${900000 + i}` });
    const refused = await c.next((f) => f.headers['subscription-id']?.startsWith('cs') && f.body.includes('RateLimitedError'));
    expect(JSON.parse(refused.body).message).toMatch(/chat sessions/);
  });

  it('closes a connection whose frame grows past the limit across WebSocket messages, and one sending an oversize WebSocket message', async () => {
    const chunked = await connected('chunker');
    chunked.send('SEND\ndestination:/application/channels/1.message\n\n');
    for (let i = 0; i < 6; i++) chunked.send('y'.repeat(500));
    expect((await chunked.next((f) => f.command === 'ERROR')).body).toMatch(/larger than 2048 bytes/);
    await waitFor(() => chunked.closed, { what: 'the chunked oversize frame to close the connection' });

    // a frame trickled one byte per WebSocket message (each would rescan the buffer: O(n²) CPU) is cut off early
    const trickle = await connected('trickler');
    trickle.send('SEND\ndestination:/application/channels/1.message\n');
    for (let i = 0; i < 100; i++) trickle.send('h');
    expect((await trickle.next((f) => f.command === 'ERROR')).body).toMatch(/split over more than 64 WebSocket messages/);
    await waitFor(() => trickle.closed, { what: 'the trickled frame to close the connection' });

    const huge = await connected('huge');
    huge.send(`SEND\ndestination:/application/x\n\n${'z'.repeat(70_000)}\0`);
    await waitFor(() => huge.closed, { what: 'the oversize WebSocket message to close the connection' });
    expect(huge.closeCode).toBe(1009);
    await stillServing();
  });

  it('drops a client that stops reading once 8 MiB are buffered for it; the other subscribers keep receiving', async () => {
    const gateway = server.app.get(GatewayServer, { strict: false });
    const hub = server.app.get(TopicHub, { strict: false });
    const [sleepy, awake] = [await connected('sleepy'), await connected('awake')];
    const topic = '/topic/channels/777777/messages';
    // Subscribed straight in the hub: the channel does not exist, and only the socket's buffering is under test.
    for (const c of [sleepy, awake]) {
      c.frame('SUBSCRIBE', { id: 'me', destination: '/application/v1/user.relay' });
      await c.next((f) => f.headers.subscription === 'me');
    }
    const [sleepyConn, awakeConn] = ['sleepy', 'awake'].map((name) => [...gateway.all].find((x) => x.session?.username === name)!);
    hub.add(topic, sleepyConn, 'flood');
    hub.add(topic, awakeConn, 'flood');
    (sleepy.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const blob = 'x'.repeat(100_000);
    let sent = 0;
    // 30 MB in all: more than the kernel's socket buffers and the 8 MiB limit, a few MB at a time.
    for (; sent < 300 && gateway.all.has(sleepyConn); sent++) {
      hub.publish(app.id, topic, 'bench.blob', { n: sent, blob });
      if (sent % 20 === 19) await waitFor(() => awake.frames.filter((f) => f.headers.subscription === 'flood').length === sent + 1, { what: 'the awake client reading' });
    }
    await waitFor(() => !gateway.all.has(sleepyConn), { what: 'the sleepy client dropped' });
    expect(sent).toBeGreaterThan(80);
    expect(sent).toBeLessThan(300);
    hub.publish(app.id, topic, 'bench.blob', { n: 'last' });
    await waitFor(() => awake.frames.some((f) => f.body.includes('"n":"last"')), { what: 'the awake client still receiving' });
    hub.remove(topic, awakeConn, 'flood');
    sleepy.close();
    await waitFor(() => sleepy.closed, { what: 'the sleepy socket closed on the client side' });
  });

  it('answers the upgrade 503 above CHATFN_GATEWAY_MAX_CONNECTIONS, and accepts again once connections close', async () => {
    const gateway = server.app.get(GatewayServer, { strict: false });
    const held: RawStompClient[] = [];
    while (gateway.size < 40) held.push(await RawStompClient.open(server.url, app.api_key));
    await expect(RawStompClient.open(server.url, app.api_key)).rejects.toThrow(/Unexpected server response: 503/);
    for (const c of held) c.close();
    await waitFor(() => gateway.size < 40, { what: 'the held connections to close' });
    await stillServing();
  });

  it('closes a connection past 1,000 subscriptions with an ERROR frame', async () => {
    const c = await connected('subscriber');
    for (let batch = 0; batch < 4; batch++) {
      for (let i = 0; i < 250; i++) {
        const n = batch * 250 + i;
        c.frame('SUBSCRIBE', { id: `t${n}`, destination: `/topic/users/424242/self`, ...(i === 249 ? { receipt: `b${batch}` } : {}) });
      }
      await c.next((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === `b${batch}`);
    }
    expect(c.closed).toBe(false);
    c.frame('SUBSCRIBE', { id: 't1000', destination: '/topic/users/424242/self' });
    expect((await c.next((f) => f.command === 'ERROR')).body).toMatch(/More than 1000 subscriptions/);
    await waitFor(() => c.closed, { what: 'the 1,001st subscription to close the connection' });
    await stillServing();
    // every closed connection left the process's connection set
    const gateway = server.app.get(GatewayServer, { strict: false });
    await waitFor(() => gateway.size === clients.filter((x) => !x.closed).length, { what: 'closed connections released' });
  });
});
