import { ChatKitty } from 'chatkitty';
import { ChatEventPayload } from '@chatfn/contracts';
import { expectEventually, startTestServer, TestApplication, TestServer } from '@chatfn/testing';
import { CHAT_MIGRATIONS } from '../../apps/chat/src/chat.migrations';
import { ChatModule } from '../../apps/chat/src/chat.module';

/**
 * Many concurrent senders: sends are group-committed (several messages, their notifications and their chat events
 * in one transaction). Each sender's messages keep their order within a channel, every message gets its
 * notifications and its events exactly once, in order per channel, and a bad message in the middle of a batch fails
 * alone. Speed is measured by `npm run bench:api`, not here.
 */
describe('messaging: concurrent sends (group commit)', () => {
  let server: TestServer;
  let app: TestApplication;
  let ck: ChatKitty;
  const events: ChatEventPayload[] = [];
  const channels: number[] = [];

  beforeAll(async () => {
    server = await startTestServer({ definition: { name: 'chat-messaging-concurrency', modules: [ChatModule], migrations: CHAT_MIGRATIONS } });
    await server.bus.subscribe('chat.event.recorded.v1', 'e2e-messaging-concurrency', async (env) => {
      events.push(env.payload);
    });
    app = await server.createApplication('concurrency');
    ck = new ChatKitty(server.sdkConfig(app));
    for (const name of ['a', 'b', 'c']) await ck.UsersApi.createUser({ name, display_name: name.toUpperCase(), is_guest: false, properties: {} });
    for (let i = 0; i < 4; i++) {
      const members = [{ username: 'a' }, { username: 'b' }, { username: 'c' }];
      channels.push((await ck.ChannelsApi.createChannel({ type: 'PRIVATE', name: `c${i}`, members } as any)).data.id);
    }
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('stores 400 messages sent 32 at a time with notifications and events once each, in order per channel and sender', async () => {
    const senders = ['a', 'b', 'c'];
    const perChannel = 100;
    const sent: { channel: number; sender: string; seq: number }[] = [];
    for (const channel of channels) for (let seq = 0; seq < perChannel; seq++) sent.push({ channel, sender: senders[seq % 3], seq });
    // 32 workers; each channel's messages go out in sequence order per sender (a worker awaits each send).
    const queues = new Map<string, typeof sent>();
    for (const s of sent) {
      const k = `${s.channel}/${s.sender}`;
      queues.set(k, [...(queues.get(k) ?? []), s]);
    }
    const lanes = [...queues.values()];
    const stored = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let l = w; l < lanes.length; l += 32) {
          for (const s of lanes[l]) {
            const m = (await ck.ChannelsApi.sendChannelMessage(s.channel, { type: 'TEXT', body: `${s.sender}:${s.seq}`, user: { username: s.sender } } as any)).data as any;
            expect(m).toMatchObject({ type: 'TEXT', body: `${s.sender}:${s.seq}`, user: { name: s.sender }, channel_id: s.channel });
            stored.set(`${s.channel}/${s.sender}:${s.seq}`, m.id);
          }
        }
      }),
    );
    expect(stored.size).toBe(sent.length);
    expect(new Set(stored.values()).size).toBe(sent.length);

    for (const channel of channels) {
      // The channel's messages as the API lists them: all there, each sender's in the order they were sent.
      const listed: any[] = [];
      let next: number | undefined;
      do {
        const page = (await ck.ChannelsApi.listChannelMessages(channel, 50, undefined, next)).data as any;
        listed.push(...page._embedded.messages);
        next = page._links?.next ? Number(new URL(page._links.next.href).searchParams.get('next')) : undefined;
      } while (next !== undefined);
      expect(listed).toHaveLength(perChannel);
      for (const sender of senders) {
        const seqs = listed.filter((m) => m.user.name === sender).reverse().map((m) => Number(m.body.split(':')[1]));
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    }

    await expectEventually(() => {
      for (const channel of channels) {
        const ofChannel = events.filter((e) => e.applicationId === app.id && e.channelId === channel);
        const sentEvents = ofChannel.filter((e) => e.type === 'user.sent.message');
        expect(sentEvents).toHaveLength(perChannel);
        // Events are in id order on the channel's partition: the order the messages were stored in.
        const ids = sentEvents.map((e) => (e.data as any).message.id);
        expect(ids).toEqual([...ids].sort((x, y) => x - y));
        // Each message: its event, then a notification to each of the two other members, for that message.
        const notes = ofChannel.filter((e) => e.type === 'user.received.notification');
        expect(notes).toHaveLength(2 * perChannel);
        for (const ev of sentEvents) {
          const m = (ev.data as any).message;
          const mine = notes.filter((n) => (n.data as any).notification.data.message.id === m.id).map((n) => (n.data as any).user.name);
          expect(mine.sort()).toEqual(senders.filter((s) => s !== m.user.name));
        }
      }
    });
  }, 120_000);

  it('fails only the bad message of a concurrent batch: the others are stored', async () => {
    const channel = channels[0];
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        ck.ChannelsApi.sendChannelMessage(channel, { type: 'TEXT', body: `mixed ${i}`, user: i === 7 ? { username: 'nobody' } : { username: 'a' } } as any),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed).toEqual([7]);
    expect((results[7] as PromiseRejectedResult).reason.response.status).toBe(404);
    expect((results[7] as PromiseRejectedResult).reason.response.data).toMatchObject({ error: 'ResourceNotFoundError' });
    const bodies = ((await ck.ChannelsApi.listChannelMessages(channel, 25)).data as any)._embedded.messages.map((m: any) => m.body);
    for (let i = 0; i < 20; i++) expect(bodies.includes(`mixed ${i}`)).toBe(i !== 7);
  });
});
