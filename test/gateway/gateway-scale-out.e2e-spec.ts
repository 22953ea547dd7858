import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatKitty } from 'chatkitty';
import { loadConfig } from '@chatfn/config';
import { RunningService, startService } from '@chatfn/platform';
import { freePort, startTestServer, TestApplication, TestServer, waitFor } from '@chatfn/testing';
import { CHATFN_ALL_IN_ONE } from '../../apps/chatfn/chatfn.service';
import { environment, installWebSocket, Json } from './gateway-helpers';

installWebSocket();
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
});
