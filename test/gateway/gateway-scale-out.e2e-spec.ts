import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatKitty } from 'chatkitty';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '@chatfn/config';
import { RunningService, startService } from '@chatfn/platform';
import { WebSocket } from 'ws';
import { freePort, startTestServer, TestApplication, TestServer, waitFor } from '@chatfn/testing';
import { TopicHub } from '../../apps/chat/src/gateway/topic-hub';
import { CHATFN_ALL_IN_ONE } from '../../apps/chatfn/chatfn.service';
import { environment, installWebSocket, Json } from './gateway-helpers';

installWebSocket();
/** Every text frame the real client's sockets receive, per socket (the client drops action errors it has no callback for). */
const received = new Map<WebSocket, string[]>();
class RecordingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    const frames: string[] = [];
    received.set(this, frames);
    this.on('message', (data) => frames.push(data.toString()));
  }
}
(globalThis as { WebSocket?: unknown }).WebSocket = RecordingWebSocket;
const core = require('@chatkitty/core') as typeof import('@chatkitty/core');

jest.setTimeout(180_000);

/** Two gateway instances on one database and one Kafka: users connected to different instances chat live. */
describe('real-time gateway scale-out (two instances, Kafka)', () => {
  let a: TestServer;
  let b: RunningService;
  let dirB: string;
  let app: TestApplication;
  const connections: { dispose(): Promise<void> }[] = [];

  beforeAll(async () => {
    a = await startTestServer({ kafka: true });
    dirB = mkdtempSync(join(tmpdir(), 'chatfn-gw-b-'));
    const env = a.config.env;
    b = await startService(
      { ...CHATFN_ALL_IN_ONE, afterStart: undefined, embeddedDatabase: false },
      loadConfig({
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        DATABASE_URL: a.databaseUrl,
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        CHATFN_KAFKA_NAMESPACE: env.CHATFN_KAFKA_NAMESPACE,
        CHATFN_DATA_DIR: dirB,
        CHATFN_TOKEN_SECRET: env.CHATFN_TOKEN_SECRET!,
        CHATFN_ENCRYPTION_KEY: env.CHATFN_ENCRYPTION_KEY!,
        EXECUTOR_DRIVER: 'process',
        LOG_LEVEL: 'warn',
        CHATFN_INSTANCE_ID: `${env.CHATFN_INSTANCE_ID}-b`,
      }),
    );
    app = await a.createApplication();
    const ck = new ChatKitty(a.sdkConfig(app));
    await ck.ApplicationApi.updateApplicationSettings({ guest_users: 'ENABLED', user_created_channels: 'ENABLED' } as never);
  });

  afterAll(async () => {
    for (const c of connections) await c.dispose().catch(() => undefined);
    await b?.close();
    await a?.close();
    if (dirB) rmSync(dirB, { recursive: true, force: true });
  });

  it('delivers messages and custom events live between users on different instances', async () => {
    const onA = await core.connectApi({ apiKey: app.api_key, username: 'ann', $environment: environment(a) as never });
    const onB = await core.connectApi({ apiKey: app.api_key, username: 'ben', $environment: { host: new URL(b.url).host, secure: false } as never });
    connections.push(onA, onB);
    const ann = onA.getSdkClient();
    const ben = onB.getSdkClient();
    const created = (await ann.createChannel({ type: 'PUBLIC', name: 'across' } as never)) as unknown as { succeeded: boolean; channel: Json };
    expect(created.succeeded).toBe(true);
    const channel = created.channel as never;
    expect(((await ben.joinChannel({ channel } as never)) as unknown as { succeeded: boolean }).succeeded).toBe(true);
    const annGot: Json[] = [];
    const benGot: Json[] = [];
    const benEvents: Json[] = [];
    ann.startChatSession({ channel, onMessageReceived: (m: Json) => annGot.push(m) } as never);
    ben.startChatSession({ channel, onMessageReceived: (m: Json) => benGot.push(m), onEventTriggered: (e: Json) => benEvents.push(e) } as never);
    // Both chat sessions are recorded before sending (the SDK subscribes the channel topics after the self RECEIPT).
    const ck = new ChatKitty(a.sdkConfig(app));
    await waitFor(async () => {
      const list = (await ck.ChatSessionsApi.listChatSessions(0, 25, undefined, 'ACTIVE')).data as unknown as { _embedded?: { sessions: Json[] } };
      return (list._embedded?.sessions.length ?? 0) >= 2;
    }, { what: 'both chat sessions' });

    await ann.sendMessage({ channel, body: 'from A' } as never);
    await waitFor(() => benGot.some((m) => m.body === 'from A'), { timeoutMs: 20_000, what: 'ben (instance B) receiving from ann (instance A)' });
    await ben.sendMessage({ channel, body: 'from B' } as never);
    await waitFor(() => annGot.some((m) => m.body === 'from B'), { timeoutMs: 20_000, what: 'ann (instance A) receiving from ben (instance B)' });
    await ann.triggerEvent({ channel, type: 'ping', properties: {} } as never);
    await waitFor(() => benEvents.some((e) => e.type === 'ping'), { timeoutMs: 20_000, what: 'the custom event across instances' });
    // Each instance delivered exactly once per subscriber.
    expect(benGot.filter((m) => m.body === 'from A')).toHaveLength(1);
  });

  /** Ann (instance A) and Ben (instance B) in a new public channel, both in a chat session with `handlers`. */
  async function pairInChannel(name: string, handlers: { ann?: Json; ben?: Json }) {
    const onA = await core.connectApi({ apiKey: app.api_key, username: `${name}-ann`, $environment: environment(a) as never });
    const onB = await core.connectApi({ apiKey: app.api_key, username: `${name}-ben`, $environment: { host: new URL(b.url).host, secure: false } as never });
    connections.push(onA, onB);
    const ann = onA.getSdkClient();
    const ben = onB.getSdkClient();
    const created = (await ann.createChannel({ type: 'PUBLIC', name } as never)) as unknown as { succeeded: boolean; channel: Json };
    expect(created.succeeded).toBe(true);
    const channel = created.channel as never;
    expect(((await ben.joinChannel({ channel } as never)) as unknown as { succeeded: boolean }).succeeded).toBe(true);
    ann.startChatSession({ channel, ...handlers.ann } as never);
    ben.startChatSession({ channel, ...handlers.ben } as never);
    const ck = new ChatKitty(a.sdkConfig(app));
    const channelId = Number((created.channel as { id: number }).id);
    // The SDK subscribes the channel's topics once its chat session started (after the self topic's RECEIPT).
    const servers = [a.app, b.app].map((x) => x.get(TopicHub, { strict: false }));
    await waitFor(() => servers.every((hub) => hub.hasSubscribers(`/topic/channels/${channelId}/typing`) && hub.hasSubscribers(`/topic/channels/${channelId}/messages`)), {
      what: 'the channel topics subscribed on both instances',
    });
    return { ann, ben, channel, channelId, ck };
  }

  it('relays typing and keystrokes to the subscribers on the other instance, not back to the typist', async () => {
    const benKeys: Json[] = [];
    const benTyping: string[] = [];
    const annOwn: unknown[] = [];
    const { ann, channel } = await pairInChannel('typing', {
      ann: { onKeystrokesReceived: (k: Json) => annOwn.push(k), onTypingStarted: (u: Json) => annOwn.push(u) },
      ben: {
        onKeystrokesReceived: (k: Json) => benKeys.push(k),
        onTypingStarted: (u: Json) => benTyping.push(`started:${String(u.name)}`),
        onTypingStopped: (u: Json) => benTyping.push(`stopped:${String(u.name)}`),
      },
    });
    ann.sendKeystrokes({ channel, keys: 'hel' } as never);
    ann.sendKeystrokes({ channel, keys: 'hello' } as never);
    await waitFor(() => benKeys.some((k) => k.keys === 'hello'), { timeoutMs: 20_000, what: 'ben (instance B) receiving ann\'s keystrokes' });
    // (the client may coalesce keystrokes sent in quick succession: the last one always arrives)
    expect(benKeys.every((k) => k.username === 'typing-ann')).toBe(true);
    await waitFor(() => benTyping.includes('stopped:typing-ann'), { timeoutMs: 20_000, what: 'typing stopped on instance B' });
    expect(benTyping).toEqual(['started:typing-ann', 'stopped:typing-ann']);
    expect(annOwn).toEqual([]);
  });

  it('keeps the ephemeral topic (keystrokes) on the broker for a minute only', async () => {
    const admin = new Kafka({ brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: `${a.config.env.CHATFN_KAFKA_NAMESPACE}.gateway.ephemeral.published.v1`, configNames: ['retention.ms'] },
        ],
        includeSynonyms: false,
      });
      expect(described.resources[0].configEntries.find((e) => e.configName === 'retention.ms')?.configValue).toBe('60000');
    } finally {
      await admin.disconnect();
    }
  });

  it('delivers a system message (Platform API, no user) live to a connected client', async () => {
    const annGot: Json[] = [];
    const benGot: Json[] = [];
    const { ck, channelId } = await pairInChannel('system', { ann: { onMessageReceived: (m: Json) => annGot.push(m) }, ben: { onMessageReceived: (m: Json) => benGot.push(m) } });
    await ck.ChannelsApi.sendChannelMessage(channelId, { type: 'TEXT', body: 'maintenance at noon' } as never);
    await waitFor(() => annGot.some((m) => m.body === 'maintenance at noon') && benGot.some((m) => m.body === 'maintenance at noon'), {
      timeoutMs: 20_000,
      what: 'the system message on both instances',
    });
    expect(annGot.find((m) => m.body === 'maintenance at noon')).toMatchObject({ type: 'SYSTEM_TEXT' });
  });

  it('revokes the cached channel access of a member removed through the Platform API on every instance', async () => {
    const onA = await core.connectApi({ apiKey: app.api_key, username: 'rev-ann', $environment: environment(a) as never });
    const before = new Set(received.keys());
    const onB = await core.connectApi({ apiKey: app.api_key, username: 'rev-ben', $environment: { host: new URL(b.url).host, secure: false } as never });
    connections.push(onA, onB);
    const benFrames = () => [...received].filter(([ws]) => !before.has(ws)).flatMap(([, f]) => f);
    const ann = onA.getSdkClient();
    const ben = onB.getSdkClient();
    const created = (await ann.createChannel({ type: 'PRIVATE', name: 'revoked', members: [{ username: 'rev-ben' }] } as never)) as unknown as {
      succeeded: boolean;
      channel: Json;
    };
    expect(created.succeeded).toBe(true);
    const channel = created.channel as never;
    const channelId = Number((created.channel as { id: number }).id);
    const annKeys: string[] = [];
    const annTyping: string[] = [];
    const annGot: string[] = [];
    const benGot: string[] = [];
    ann.startChatSession({
      channel,
      onKeystrokesReceived: (k: Json) => annKeys.push(String(k.keys)),
      onTypingStarted: (u: Json) => annTyping.push(`started:${String(u.name)}`),
      onTypingStopped: (u: Json) => annTyping.push(`stopped:${String(u.name)}`),
      onMessageReceived: (m: Json) => annGot.push(String(m.body)),
    } as never);
    ben.startChatSession({ channel, onMessageReceived: (m: Json) => benGot.push(String(m.body)) } as never);
    const [hubA, hubB] = [a.app, b.app].map((x) => x.get(TopicHub, { strict: false }));
    const topic = (t: string) => `/topic/channels/${channelId}/${t}`;
    await waitFor(() => [hubA, hubB].every((hub) => hub.hasSubscribers(topic('keystrokes')) && hub.hasSubscribers(topic('messages'))), {
      what: 'the channel topics subscribed on both instances',
    });

    // Before: Ben (instance B, access cached by his subscriptions) types and Ann (instance A) sees it.
    ben.sendKeystrokes({ channel, keys: 'hi' } as never);
    await waitFor(() => annKeys.includes('hi') && annTyping.includes('started:rev-ben'), { timeoutMs: 20_000, what: 'ann seeing ben type' });

    // Ben is removed through the Platform API of instance A; his client sees `me.channel.left` from instance B.
    const ck = new ChatKitty(a.sdkConfig(app));
    const users = (await ck.UsersApi.listUsers(0, 5, undefined, 'rev-ben')).data as unknown as { _embedded: { users: { id: number }[] } };
    const benId = Number(users._embedded.users[0].id);
    await ck.ChannelsApi.removeChannelMember(channelId, benId);
    await waitFor(() => benFrames().some((f) => f.includes('"me.channel.left"')), { timeoutMs: 20_000, what: 'ben receiving me.channel.left' });
    // His typing indicator ends at once, and instance B stops delivering the channel to him.
    await waitFor(() => annTyping.includes('stopped:rev-ben'), { timeoutMs: 20_000, what: 'ben\'s typing stopped on removal' });
    await waitFor(() => !hubB.hasSubscribers(topic('messages')) && !hubB.hasSubscribers(topic('keystrokes')), { what: 'ben\'s channel subscriptions dropped' });

    // After: keystrokes are refused with an error on his error queue, and nothing reaches Ann.
    const errorsBefore = benFrames().filter((f) => f.includes('ResourceNotFoundError')).length;
    ben.sendKeystrokes({ channel, keys: 'secret' } as never);
    await waitFor(() => benFrames().filter((f) => f.includes('ResourceNotFoundError') && f.includes(`Channel with id ${channelId} not found`)).length > errorsBefore, {
      timeoutMs: 20_000,
      what: 'the keystrokes refused',
    });
    const refused = benFrames().find((f) => f.includes('ResourceNotFoundError'))!;
    expect(refused).toMatch(/^MESSAGE\n/);
    expect(refused).toContain('receipt-id:');
    // Nor can he send a message.
    const sent = (await ben.sendMessage({ channel, body: 'still here?' } as never)) as unknown as { succeeded: boolean; error?: Json };
    expect(sent.succeeded).toBe(false);
    expect(sent.error).toMatchObject({ error: 'ResourceNotFoundError' });
    // Ann's own message makes the round trip through the bus (slower than an ephemeral relay): by then anything Ben's
    // instance had relayed would have arrived.
    await ann.sendMessage({ channel, body: 'after removal' } as never);
    await waitFor(() => annGot.includes('after removal'), { timeoutMs: 20_000, what: 'ann receiving her message' });
    expect(annKeys).toEqual(['hi']);
    expect(annTyping).toEqual(['started:rev-ben', 'stopped:rev-ben']);
    expect(annGot).not.toContain('still here?');
    expect(benGot).toEqual([]);
  });
});
