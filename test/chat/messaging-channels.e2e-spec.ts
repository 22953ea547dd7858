import { ChatKitty } from 'chatkitty';
import { ChatEventPayload } from '@chatfn/contracts';
import { expectEventually, startTestServer, TestApplication, TestServer } from '@chatfn/testing';
import { CHAT_MIGRATIONS } from '../../apps/chat/src/chat.migrations';
import { ChatModule } from '../../apps/chat/src/chat.module';

/** Channels half of the messaging Platform API, through the real chatkitty@2.106.8 SDK, real PostgreSQL, real bus. */

async function apiError(p: Promise<unknown>): Promise<{ status: number; data: any }> {
  try {
    await p;
  } catch (e: any) {
    if (e?.response) return { status: e.response.status, data: e.response.data };
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('messaging: channels (SDK conformance)', () => {
  let server: TestServer;
  let app: TestApplication;
  let ck: ChatKitty;
  let ckOther: ChatKitty;
  const events: ChatEventPayload[] = [];
  const users: Record<string, any> = {};

  beforeAll(async () => {
    server = await startTestServer({
      definition: { name: 'chat-messaging-channels', modules: [ChatModule], migrations: CHAT_MIGRATIONS },
    });
    await server.bus.subscribe('chat.event.recorded.v1', 'e2e-messaging-channels', async (env) => {
      events.push(env.payload);
    });
    app = await server.createApplication('messaging-a');
    ck = new ChatKitty(server.sdkConfig(app));
    ckOther = new ChatKitty(server.sdkConfig(await server.createApplication('messaging-b')));
    for (const name of ['jane', 'john', 'ann', 'bob']) {
      users[name] = (await ck.UsersApi.createUser({ name, display_name: name.toUpperCase(), is_guest: false, properties: {} })).data;
    }
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const ofApp = () => events.filter((e) => e.applicationId === app.id);

  it('creates PUBLIC and PRIVATE channels with the SDK shape; the creator is a member; names are unique', async () => {
    const { data: pub } = await ck.ChannelsApi.createChannel({
      type: 'PUBLIC',
      name: 'general',
      display_name: 'General',
      creator: { username: 'jane' },
      members: [{ id: users.john.id }],
      properties: { topic: 'all' },
    } as any);
    expect(pub).toMatchObject({
      type: 'PUBLIC',
      name: 'general',
      display_name: 'General',
      properties: { topic: 'all' },
      creator: { id: users.jane.id, name: 'jane', display_name: 'JANE', isGuest: false },
    });
    expect(typeof pub.id).toBe('number');
    expect(new Date(pub.created_time).toISOString()).toBe(pub.created_time);
    expect((pub as any)._links.self.href).toBe(`${server.url}/v1/channels/${pub.id}`);
    expect(pub).not.toHaveProperty('members');

    const { data: members } = await ck.ChannelsApi.listChannelMembers(pub.id);
    expect(members._embedded!.users!.map((u: any) => u.name).sort()).toEqual(['jane', 'john']);

    const { data: again } = await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'general' } as any);
    expect(again.id).toBe(pub.id);
    const conflict = await apiError(ck.ChannelsApi.createChannel({ type: 'PRIVATE', name: 'general' } as any));
    expect(conflict.status).toBe(409);

    const { data: priv } = await ck.ChannelsApi.createChannel({ type: 'PRIVATE' } as any);
    expect(priv).toMatchObject({ type: 'PRIVATE', properties: {} });
    expect((priv as any).name).toMatch(/^[0-9a-f-]{36}$/);
    expect((priv as any).display_name).toBe((priv as any).name);
  });

  it('DIRECT channels are unique per member set and their members are fixed', async () => {
    const { data: dm } = await ck.ChannelsApi.createChannel({
      type: 'DIRECT',
      members: [{ username: 'jane' }, { id: users.ann.id }],
    } as any);
    expect(dm.type).toBe('DIRECT');
    expect((dm as any).members.map((m: any) => m.name)).toEqual(['jane', 'ann']);
    expect(dm).not.toHaveProperty('name');
    const { data: same } = await ck.ChannelsApi.createChannel({
      type: 'DIRECT',
      creator: { username: 'ann' },
      members: [{ id: users.jane.id }],
    } as any);
    expect(same.id).toBe(dm.id);
    const add = await apiError(ck.ChannelsApi.addChannelMember(dm.id, { username: 'bob' }));
    expect(add.status).toBe(400);
    expect(add.data).toMatchObject({ error: 'InvalidRequestError' });
    expect(typeof add.data.message).toBe('string');
    expect(typeof add.data.timestamp).toBe('string');
  });

  it('lists channels with type, members, time and properties filters and page metadata', async () => {
    const { data: all } = await ck.ChannelsApi.listChannels(0, 2);
    expect(all.page).toMatchObject({ size: 2, number: 0, total_elements: 3, total_pages: 2 });
    expect(all._embedded!.channels).toHaveLength(2);
    const { data: direct } = await ck.ChannelsApi.listChannels(0, 25, undefined, 'DIRECT');
    expect(direct._embedded!.channels!.map((c) => c.type)).toEqual(['DIRECT']);
    const { data: withJohn } = await ck.ChannelsApi.listChannels(0, 25, undefined, undefined, new Set(['jane', 'john']));
    expect(withJohn._embedded!.channels!.map((c: any) => c.name)).toEqual(['general']);
    const { data: byProps } = await ck.ChannelsApi.listChannels(0, 25, undefined, undefined, undefined, undefined, undefined, JSON.stringify({ topic: 'all' }));
    expect(byProps._embedded!.channels!.map((c: any) => c.name)).toEqual(['general']);
    const future = new Date(Date.now() + 3600_000).toISOString();
    const { data: none } = await ck.ChannelsApi.listChannels(0, 25, undefined, undefined, undefined, future);
    expect(none._embedded!.channels).toEqual([]);
    const bad = await apiError(ck.ChannelsApi.listChannels(0, 25, undefined, 'GROUP' as any));
    expect(bad.status).toBe(400);
    expect(bad.data.message).toMatch(/^type:/);
  });

  it('retrieves, updates (merge-patch) and deletes a channel, with events in order', async () => {
    const { data: c } = await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'temp', creator: { username: 'bob' } } as any);
    const { data: got } = await ck.ChannelsApi.retrieveChannel(c.id);
    expect(got).toMatchObject({ id: c.id, name: 'temp', display_name: 'temp' });
    const { data: upd } = await ck.ChannelsApi.updateChannel(c.id, { display_name: 'Temporary', properties: { a: 1 } });
    expect(upd).toMatchObject({ id: c.id, display_name: 'Temporary', properties: { a: 1 } });
    const { data: appRes } = await ck.ChannelsApi.deleteChannel(c.id);
    expect(appRes).toMatchObject({ id: app.id });
    expect((await apiError(ck.ChannelsApi.retrieveChannel(c.id))).status).toBe(404);
    await expectEventually(() => {
      const types = ofApp().filter((e) => e.channelId === c.id).map((e) => e.type);
      expect(types).toEqual(['channel.created', 'channel.member.added', 'channel.updated', 'channel.deleted']);
    });
    const created = ofApp().find((e) => e.channelId === c.id && e.type === 'channel.created')!;
    expect(created.data.channel).toMatchObject({ id: c.id, type: 'PUBLIC', name: 'temp', display_name: 'temp', creator: { name: 'bob' } });
  });

  it('adds and removes members and moderators; lists memberships and participants', async () => {
    const { data: c } = await ck.ChannelsApi.createChannel({ type: 'PRIVATE', name: 'team' } as any);
    const { data: after } = await ck.ChannelsApi.addChannelMember(c.id, { username: 'ann' });
    expect(after.id).toBe(c.id);
    const { data: mod } = await ck.ChannelsApi.addChannelModerator(c.id, { id: users.bob.id });
    expect(mod).toMatchObject({ id: users.bob.id, name: 'bob' });
    const { data: mods } = await ck.ChannelsApi.listChannelModerators(c.id);
    expect(mods._embedded!.users!.map((u: any) => u.name)).toEqual(['bob']);
    const { data: ships } = await ck.ChannelsApi.listChannelMemberships(c.id);
    expect(ships.page).toMatchObject({ total_elements: 2 });
    expect(typeof ships._embedded!.memberships![0].created_time).toBe('string');
    const { data: parts } = await ck.ChannelsApi.listChannelParticipants(c.id);
    expect(parts._embedded!.users).toEqual([]);
    await ck.ChannelsApi.removeChannelModerator(c.id, users.bob.id);
    expect((await ck.ChannelsApi.listChannelModerators(c.id)).data._embedded!.users).toEqual([]);
    await ck.ChannelsApi.removeChannelMember(c.id, users.ann.id);
    const { data: left } = await ck.ChannelsApi.listChannelMembers(c.id);
    expect(left._embedded!.users!.map((u: any) => u.name)).toEqual(['bob']);
    expect((await apiError(ck.ChannelsApi.removeChannelMember(c.id, users.ann.id))).status).toBe(404);
    expect((await apiError(ck.ChannelsApi.addChannelMember(c.id, { username: 'nobody' }))).status).toBe(404);
    await expectEventually(() => {
      const types = ofApp().filter((e) => e.channelId === c.id).map((e) => e.type);
      expect(types).toEqual([
        'channel.created',
        'channel.member.added',
        'channel.member.added',
        'channel.moderator.added',
        'channel.moderator.removed',
        'channel.member.removed',
      ]);
      const moderatorEvents = ofApp().filter((e) => e.channelId === c.id && e.type.startsWith('channel.moderator.'));
      for (const e of moderatorEvents) expect(e.data).toMatchObject({ user: { id: users.bob.id, name: 'bob' }, channel: { id: c.id } });
    });
  });

  it('sends invites (user.received.channel_invite), custom events (system.triggered.event) and keystrokes', async () => {
    const { data: c } = await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'lobby' } as any);
    const { data: invite } = await ck.ChannelsApi.sendChannelInvite(c.id, { user: { username: 'john' } });
    expect(typeof invite.created_time).toBe('string');
    const { data: invites } = await ck.ChannelsApi.listChannelInvites(c.id);
    expect(invites._embedded!.invites).toHaveLength(1);
    const { data: ev } = await ck.ChannelsApi.sendChannelEvent(c.id, { type: 'My Custom Event', properties: { payload: 'Boom!' } as any });
    expect(ev).toMatchObject({ type: 'My Custom Event', properties: { payload: 'Boom!' } });
    const ks = await ck.ChannelsApi.sendChannelKeystrokes(c.id, { keys: 'hel', user: { username: 'jane' } });
    expect(ks.status).toBe(202);
    expect(ks.data).toMatchObject({ keys: 'hel', username: 'jane' });
    await expectEventually(() => {
      const mine = ofApp().filter((e) => e.channelId === c.id);
      expect(mine.map((e) => e.type)).toEqual(['channel.created', 'user.received.channel_invite', 'system.triggered.event']);
      expect(mine[1].data).toMatchObject({ user: { name: 'john', display_name: 'JOHN' }, channel: { id: c.id, name: 'lobby' } });
      expect(mine[1].data).not.toHaveProperty('invitingUser');
      expect(mine[2].data).toEqual({
        channel: expect.objectContaining({ id: c.id, type: 'PUBLIC' }),
        event: { type: 'My Custom Event', properties: { payload: 'Boom!' } },
      });
    });
  });

  it('changes racing the deletion of their channel end in 200 or 404, never a deadlock (found by a race test: were 500s)', async () => {
    const status = async (p: Promise<unknown>) => {
      try {
        await p;
        return 200;
      } catch (e: any) {
        if (!e?.response) throw e;
        return e.response.status as number;
      }
    };
    const names = Object.keys(users);
    for (let round = 0; round < 3; round++) {
      const doomed = (await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: `race-${round}` } as any)).data;
      const messages: { id: number }[] = [];
      for (let i = 0; i < 4; i++) messages.push((await ck.ChannelsApi.sendChannelMessage(doomed.id, { type: 'TEXT', body: `m${i}` } as any)).data);
      const changes = Array.from({ length: 24 }, (_, i) => {
        switch (i % 6) {
          case 0: return status(ck.ChannelsApi.updateChannel(doomed.id, { display_name: `x${i}` } as any));
          case 1: return status(ck.ChannelsApi.addChannelMember(doomed.id, { username: names[i % names.length] } as any));
          case 2: return status(ck.ChannelsApi.addChannelModerator(doomed.id, { username: names[(i + 1) % names.length] } as any));
          case 3: return status(ck.MessagesApi.updateMessage(messages[i % 4].id, { body: `e${i}` }));
          case 4: return status(ck.MessagesApi.deleteMessage(messages[i % 4].id));
          default: return status(ck.ChannelsApi.sendChannelEvent(doomed.id, { type: 'race', properties: {} } as any));
        }
      });
      const deleted = status(ck.ChannelsApi.deleteChannel(doomed.id));
      const statuses = await Promise.all([...changes, deleted]);
      expect(statuses.filter((s) => s !== 200 && s !== 404)).toEqual([]);
      expect(await deleted).toBe(200);
    }
  });

  it('answers 400 naming the field for bad input and 404 for unknown or other-application ids; failures emit no event', async () => {
    const before = ofApp().length;
    let e = await apiError(ck.ChannelsApi.createChannel({} as any));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/^type:/);
    e = await apiError(ck.ChannelsApi.createChannel({ type: 'GROUP' } as any));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/^type: must be one of DIRECT, PUBLIC, PRIVATE/);
    e = await apiError(ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 42 } as any));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/^name:/);
    e = await apiError(ck.ChannelsApi.createChannel({ type: 'DIRECT' } as any));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/^members:/);
    e = await apiError(ck.ChannelsApi.createChannel({ type: 'DIRECT', members: [{ idd: 1 }] } as any));
    expect(e.data.message).toMatch(/^members\.0:/);
    e = await apiError(ck.ChannelsApi.sendChannelEvent(1, { properties: {} } as any));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/^type:/);
    const res = await fetch(`${server.url}/v1/channels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(await server.accessToken(app))}`, 'content-type': 'application/json' },
      body: '{"type": "PUBLIC",',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'InvalidRequestError' });

    const { data: list } = await ck.ChannelsApi.listChannels();
    const mine = list._embedded!.channels![0];
    e = await apiError(ckOther.ChannelsApi.retrieveChannel(mine.id));
    expect(e.status).toBe(404);
    expect(e.data).toMatchObject({ error: 'ResourceNotFoundError' });
    expect((await apiError(ckOther.ChannelsApi.sendChannelEvent(mine.id, { type: 'x', properties: {} }))).status).toBe(404);
    expect((await apiError(ck.ChannelsApi.retrieveChannel(999_999))).status).toBe(404);
    expect((await apiError(ck.ChannelsApi.retrieveChannel('abc' as any))).status).toBe(400);
    // Everything above failed: nothing was recorded (wait for a marker event to be sure the relay caught up).
    const { data: marker } = await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'marker' } as any);
    await expectEventually(() => expect(ofApp().some((x) => x.channelId === marker.id)).toBe(true));
    expect(ofApp().slice(before).map((x) => x.type)).toEqual(['channel.created']);
  });
});
