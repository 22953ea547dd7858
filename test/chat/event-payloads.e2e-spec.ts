import { ChatKitty } from 'chatkitty';
import { ChatEventPayload, isTriggerType, TRIGGERS } from '@chatfn/contracts';
import { expectEventually, startTestServer, TestApplication, TestServer } from '@chatfn/testing';
import { CHAT_MIGRATIONS } from '../../apps/chat/src/chat.migrations';
import { ChatModule } from '../../apps/chat/src/chat.module';

/**
 * Recorded chat events carry exactly what a ChatKitty function receives: the trigger payload's own keys camelCase
 * (`user`, `notification`, `userHasActiveSession`, ...) and every resource under them in the SDK's wire format
 * (snake_case as in chatkitty@2.106.8's api.ts, `isGuest` and HAL keys kept). Driven through the real SDK.
 */

/** Paths of keys below the top level that are camelCase (and not one of the SDK's own camelCase keys). */
function camelKeys(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => camelKeys(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'properties') continue; // user-defined
    if (/[a-z][A-Z]/.test(k) && k !== 'isGuest') out.push(`${path}.${k}`);
    out.push(...camelKeys(v, `${path}.${k}`));
  }
  return out;
}

describe('chat events: payloads in the SDK wire format', () => {
  let server: TestServer;
  let app: TestApplication;
  let ck: ChatKitty;
  const events: ChatEventPayload[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      definition: { name: 'chat-event-payloads', modules: [ChatModule], migrations: CHAT_MIGRATIONS },
    });
    await server.bus.subscribe('chat.event.recorded.v1', 'e2e-event-payloads', async (env) => {
      events.push(env.payload);
    });
    app = await server.createApplication('payloads');
    ck = new ChatKitty(server.sdkConfig(app));
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('every recorded trigger event validates against TRIGGERS[type].payload, and no resource has camelCase keys', async () => {
    const users: Record<string, any> = {};
    for (const name of ['ada', 'bob', 'cy', 'dee']) {
      users[name] = (await ck.UsersApi.createUser({ name, display_name: name.toUpperCase(), is_guest: name === 'dee', properties: { someKey: 1 } as never })).data;
    }
    await ck.UsersApi.updateUser(users.bob.id, { display_name: 'Bobby' } as never);
    const { data: room } = await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'room', creator: { username: 'ada' }, members: [{ username: 'bob' }] } as any);
    const { data: dm } = await ck.ChannelsApi.createChannel({ type: 'DIRECT', members: [{ username: 'ada' }, { username: 'cy' }] } as any);
    await ck.ChannelsApi.addChannelMember(room.id, { username: 'cy' });
    await ck.ChannelsApi.sendChannelInvite(room.id, { user: { username: 'dee' } });
    await ck.ChannelsApi.sendChannelEvent(room.id, { type: 'poke', properties: { fooBar: 1 } as never });
    await ck.ChannelsApi.updateChannel(room.id, { display_name: 'The Room' });

    const { data: m } = await ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body: 'hi <@cy> in <#room>', user: { username: 'ada' } } as any);
    await ck.ThreadsApi.sendThreadMessage(m.id, { type: 'TEXT', body: 'reply', user: { username: 'bob' } } as any);
    await ck.ChannelsApi.sendChannelMessage(dm.id, { type: 'TEXT', body: 'system says hi' } as any);
    await ck.ChannelsApi.sendChannelMessage(dm.id, {
      type: 'FILE',
      user: { username: 'cy' },
      file: { url: 'https://example.com/a.png', name: 'a.png', content_type: 'image/png', size: 10 },
    } as any);
    await ck.MessagesApi.updateMessage(m.id, { body: 'edited' });
    await ck.ChannelsApi.removeChannelMember(room.id, users.cy.id);
    await ck.MessagesApi.deleteMessage(m.id);

    const mine = () => events.filter((e) => e.applicationId === app.id);
    await expectEventually(() => expect(mine().some((e) => e.type === 'message.deleted')).toBe(true));

    const seen = new Set(mine().map((e) => e.type));
    for (const t of ['user.sent.message', 'user.received.notification', 'user.received.channel_invite', 'system.triggered.event']) {
      expect(seen).toContain(t);
    }
    for (const t of ['user.created', 'user.updated', 'channel.created', 'channel.updated', 'channel.member.added', 'channel.member.removed', 'message.updated', 'message.deleted']) {
      expect(seen).toContain(t);
    }

    const failures: string[] = [];
    for (const e of mine()) {
      if (isTriggerType(e.type)) {
        const r = TRIGGERS[e.type].payload.safeParse(e.data);
        if (!r.success) failures.push(`${e.type}: ${JSON.stringify(r.error.issues)}`);
      }
      const camel = camelKeys(e.data).filter((p) => p.split('.').length > 2); // the payload's own keys may be camelCase
      if (camel.length) failures.push(`${e.type}: camelCase keys ${camel.join(', ')}`);
    }
    expect(failures).toEqual([]);

    const sent = mine().find((e) => e.type === 'user.sent.message' && (e.data as any).message.id === m.id)!;
    expect(sent.data).toMatchObject({
      user: { id: users.ada.id, name: 'ada', display_name: 'ADA', display_picture_url: expect.any(String), isGuest: false },
      channel: { id: room.id, display_name: 'The Room', created_time: expect.any(String), creator: { name: 'ada' } },
      message: { id: m.id, channel_id: room.id, created_time: expect.any(String), nested_level: 0, replies_count: 0 },
    });
    const note = mine().find((e) => e.type === 'user.received.notification' && (e.data as any).user.name === 'cy')!;
    expect(note.data).toMatchObject({
      userHasActiveSession: false,
      notification: { created_time: expect.any(String), data: { type: 'USER:MENTIONED:USER', channel_id: room.id, mentioned_user: { name: 'cy' } } },
    });
    const invite = mine().find((e) => e.type === 'user.received.channel_invite')!;
    expect(invite.data).toMatchObject({ user: { name: 'dee', isGuest: true }, channel: { id: room.id } });
    const custom = mine().find((e) => e.type === 'system.triggered.event')!;
    expect(custom.data).toMatchObject({ event: { type: 'poke', properties: { fooBar: 1 } } });
    const created = mine().find((e) => e.type === 'user.created' && e.userId === users.ada.id)!;
    expect(created.data).toMatchObject({ user: { properties: { someKey: 1 } } });
  });
});
