import { ChatKitty } from 'chatkitty';
import { ChatEventPayload, ExecutionReply, TRIGGERS } from '@chatfn/contracts';
import { expectEventually, startTestServer, TestApplication, TestServer } from '@chatfn/testing';
import { CHAT_MIGRATIONS } from '../../apps/chat/src/chat.migrations';
import { ChatModule } from '../../apps/chat/src/chat.module';

/** Messages, threads, notifications and the blocking send hook, through the real chatkitty@2.106.8 SDK. */

async function apiError(p: Promise<unknown>): Promise<{ status: number; data: any }> {
  try {
    await p;
  } catch (e: any) {
    if (e?.response) return { status: e.response.status, data: e.response.data };
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('messaging: messages (SDK conformance)', () => {
  let server: TestServer;
  let app: TestApplication;
  let ck: ChatKitty;
  let ckOther: ChatKitty;
  const events: ChatEventPayload[] = [];
  const users: Record<string, any> = {};
  let general: any;
  let dm: any;

  beforeAll(async () => {
    server = await startTestServer({
      definition: { name: 'chat-messaging-messages', modules: [ChatModule], migrations: CHAT_MIGRATIONS },
    });
    await server.bus.subscribe('chat.event.recorded.v1', 'e2e-messaging-messages', async (env) => {
      events.push(env.payload);
    });
    app = await server.createApplication('messages-a');
    ck = new ChatKitty(server.sdkConfig(app));
    ckOther = new ChatKitty(server.sdkConfig(await server.createApplication('messages-b')));
    for (const name of ['jane', 'john', 'ann']) {
      users[name] = (await ck.UsersApi.createUser({ name, display_name: name.toUpperCase(), is_guest: false, properties: {} })).data;
    }
    general = (await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'general', members: [{ username: 'jane' }, { username: 'john' }] } as any)).data;
    dm = (await ck.ChannelsApi.createChannel({ type: 'DIRECT', members: [{ username: 'jane' }, { username: 'ann' }] } as any)).data;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const ofChannel = (id: number) => events.filter((e) => e.applicationId === app.id && e.channelId === id);

  it('sends a user TEXT message with mentions: resource, user.sent.message and notifications in one transaction', async () => {
    const { data: m } = await ck.ChannelsApi.sendChannelMessage(general.id, {
      type: 'TEXT',
      body: 'hi <@ann> see <#general>',
      user: { username: 'jane' },
      properties: { k: 'v' },
      group_tag: 'g1',
    } as any);
    expect(m).toMatchObject({
      type: 'TEXT',
      channel_id: general.id,
      body: 'hi <@ann> see <#general>',
      nested_level: 0,
      replies_count: 0,
      properties: { k: 'v' },
      group_tag: 'g1',
      user: { id: users.jane.id, name: 'jane', display_name: 'JANE' },
    });
    expect((m as any).mentions).toEqual([
      expect.objectContaining({ type: 'USER', tag: '<@ann>', start_position: 3, end_position: 9, user: expect.objectContaining({ name: 'ann' }) }),
      expect.objectContaining({ type: 'CHANNEL', tag: '<#general>', start_position: 14, end_position: 24, channel: expect.objectContaining({ id: general.id }) }),
    ]);
    expect((m as any)._links.self.href).toBe(`${server.url}/v1/messages/${m.id}`);

    await expectEventually(() => {
      const evs = ofChannel(general.id).filter((e) => e.type === 'user.sent.message' || e.type === 'user.received.notification');
      expect(evs.map((e) => e.type)).toEqual(['user.sent.message', 'user.received.notification', 'user.received.notification']);
    });
    const sent = ofChannel(general.id).find((e) => e.type === 'user.sent.message')!;
    expect(sent.userId).toBe(users.jane.id);
    expect(sent.depth).toBe(0);
    expect(sent.data).toMatchObject({
      user: { id: users.jane.id, name: 'jane', display_name: 'JANE', isGuest: false },
      channel: { id: general.id, type: 'PUBLIC', name: 'general', last_received_message: { id: m.id } },
      message: { id: m.id, type: 'TEXT', channel_id: general.id, body: 'hi <@ann> see <#general>', nested_level: 0, properties: { k: 'v' } },
    });
    const notes = ofChannel(general.id).filter((e) => e.type === 'user.received.notification').map((e) => e.data as any);
    const byUser = Object.fromEntries(notes.map((n) => [n.user.name, n]));
    expect(byUser.ann.notification.data).toMatchObject({ type: 'USER:MENTIONED:USER', channel_id: general.id, message: { id: m.id }, mentioned_user: { name: 'ann' } });
    expect(byUser.john.notification.data).toMatchObject({ type: 'USER:MENTIONED:CHANNEL', mentioned_channel: { id: general.id } });
    expect(byUser.john.userHasActiveSession).toBe(false);
    expect(byUser.jane).toBeUndefined();

    const { data: inbox } = await ck.UsersApi.listUserNotifications(users.ann.id);
    expect(inbox._embedded!.notifications![0]).toMatchObject({
      title: expect.stringContaining('JANE'),
      body: 'hi <@ann> see <#general>',
      muted: false,
      channel: { id: general.id },
      data: { type: 'USER:MENTIONED:USER', channel_id: general.id, message: { id: m.id }, mentioned_user: { name: 'ann' } },
    });
  });

  it('sends SYSTEM_TEXT and FILE messages (JSON and multipart) with SYSTEM:SENT:MESSAGE notifications', async () => {
    const { data: sys } = await ck.ChannelsApi.sendChannelMessage(dm.id, { type: 'TEXT', body: 'welcome' } as any);
    expect(sys).toMatchObject({ type: 'SYSTEM_TEXT', body: 'welcome', channel_id: dm.id });
    expect(sys).not.toHaveProperty('user');
    const { data: file } = await ck.ChannelsApi.sendChannelMessage(dm.id, {
      type: 'FILE',
      user: { id: users.ann.id },
      file: { url: 'https://example.com/a.png', name: 'a.png', content_type: 'image/png', size: 10 },
    } as any);
    expect(file).toMatchObject({ type: 'FILE', file: { type: 'EXTERNAL', url: 'https://example.com/a.png', name: 'a.png', content_type: 'image/png', size: 10 }, user: { name: 'ann' } });

    const form = new FormData();
    form.append('file', new Blob([Buffer.from('hello file')], { type: 'text/plain' }), 'hello.txt');
    form.append('username', 'jane');
    form.append('properties', JSON.stringify({ via: 'multipart' }));
    const res = await fetch(`${server.url}/v1/channels/${dm.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await server.accessToken(app)}` },
      body: form,
    });
    expect(res.status).toBe(201);
    const up = (await res.json()) as any;
    expect(up).toMatchObject({ type: 'FILE', file: { type: 'HOSTED', name: 'hello.txt', content_type: 'text/plain', size: 10 }, user: { name: 'jane' }, properties: { via: 'multipart' } });
    const download = await fetch(up.file.url);
    expect(await download.text()).toBe('hello file');

    await expectEventually(() => {
      const types = ofChannel(dm.id).map((e) => e.type).filter((t) => t !== 'channel.created' && t !== 'channel.member.added');
      expect(types).toEqual([
        'system.sent.message',
        'user.received.notification', // system → jane
        'user.received.notification', // system → ann
        'user.sent.message',
        'user.received.notification', // ann's file → jane
        'user.sent.message',
        'user.received.notification', // jane's upload → ann
      ]);
    });
    const sysNotes = ofChannel(dm.id).filter((e) => e.type === 'user.received.notification').slice(0, 2);
    expect(sysNotes.map((e) => (e.data as any).notification.data.type)).toEqual(['SYSTEM:SENT:MESSAGE', 'SYSTEM:SENT:MESSAGE']);
    expect((await ck.UsersApi.countUserUnreadMessages(users.jane.id)).data).toEqual({ count: 2 });
  });

  it('multipart sends: a thread reply carries its file; no token, a file in another field or a bad form are 4xx and store nothing', async () => {
    const { data: c } = await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'uploads' } as any);
    const { data: parent } = await ck.ChannelsApi.sendChannelMessage(c.id, { type: 'TEXT', body: 'parent' } as any);
    const form = (field: string, extra: Record<string, string> = {}) => {
      const f = new FormData();
      f.append(field, new Blob([Buffer.from('reply file')], { type: 'text/plain' }), 'r.txt');
      for (const [k, v] of Object.entries(extra)) f.append(k, v);
      return f;
    };
    const auth = { authorization: `Bearer ${await server.accessToken(app)}` };
    const post = (path: string, body: FormData, headers: Record<string, string> = auth) =>
      fetch(`${server.url}/v1/${path}`, { method: 'POST', headers, body });

    const reply = await post(`threads/${parent.id}/messages`, form('file'));
    expect(reply.status).toBe(201);
    expect(await reply.json()).toMatchObject({ type: 'SYSTEM_FILE', parent_id: parent.id, nested_level: 1, file: { type: 'HOSTED', name: 'r.txt', size: 10 } });

    const noToken = await post(`channels/${c.id}/messages`, form('file'), {});
    expect(noToken.status).toBe(401);
    const otherField = await post(`channels/${c.id}/messages`, form('attachment'));
    expect(otherField.status).toBe(400);
    const otherBody = await otherField.json();
    expect(otherBody).toMatchObject({ message: expect.stringMatching(/unexpected file field - attachment/i) });
    const badProps = await post(`channels/${c.id}/messages`, form('file', { properties: '[1]' }));
    expect(badProps.status).toBe(400);
    expect(await badProps.json()).toMatchObject({ error: 'InvalidRequestError', message: expect.stringContaining('properties') });

    const { data: page } = await ck.ChannelsApi.listChannelMessages(c.id, 25);
    expect(page._embedded!.messages!.map((m: any) => m.body ?? m.file?.name)).toEqual(['parent']);
  });

  it('pages channel messages by cursor, newest first, over more than one page (NEXT and PREVIOUS)', async () => {
    const { data: c } = await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'paging', members: [{ username: 'john' }] } as any);
    const sent: number[] = [];
    for (let i = 0; i < 7; i++) {
      sent.push((await ck.ChannelsApi.sendChannelMessage(c.id, { type: 'TEXT', body: `m${i}`, user: { username: 'john' } } as any)).data.id);
    }
    const newest = [...sent].reverse();
    const p1 = (await ck.ChannelsApi.listChannelMessages(c.id, 3)).data;
    expect(p1._embedded!.messages!.map((m) => m.id)).toEqual(newest.slice(0, 3));
    expect(p1.page).toMatchObject({ size: 3, total: 7 });
    expect(p1.page.next).toBeDefined();
    expect((p1 as any)._links.next.href).toContain('relation=NEXT');
    const start = Number(p1.page.start);
    const p2 = (await ck.ChannelsApi.listChannelMessages(c.id, 3, start, Number(p1.page.next), 'NEXT')).data;
    expect(p2._embedded!.messages!.map((m) => m.id)).toEqual(newest.slice(3, 6));
    const p3 = (await ck.ChannelsApi.listChannelMessages(c.id, 3, start, Number(p2.page.next), 'NEXT')).data;
    expect(p3._embedded!.messages!.map((m) => m.id)).toEqual(newest.slice(6));
    expect(p3.page.next).toBeUndefined();
    // Following the prev link of page 2 gives page 1 back.
    const prev = new URL((p2 as any)._links.prev.href);
    const back = (await ck.ChannelsApi.listChannelMessages(c.id, 3, start, Number(prev.searchParams.get('next')), 'PREVIOUS')).data;
    expect(back._embedded!.messages!.map((m) => m.id)).toEqual(newest.slice(0, 3));
    // A message sent after the first page does not shift the pages of that walk.
    await ck.ChannelsApi.sendChannelMessage(c.id, { type: 'TEXT', body: 'late' } as any);
    const again = (await ck.ChannelsApi.listChannelMessages(c.id, 3, start, Number(p1.page.next), 'NEXT')).data;
    expect(again._embedded!.messages!.map((m) => m.id)).toEqual(newest.slice(3, 6));
    // Filters.
    const q = (await ck.ChannelsApi.listChannelMessages(c.id, 25, undefined, undefined, undefined, undefined, 'm3')).data;
    expect(q._embedded!.messages!.map((m: any) => m.body)).toEqual(['m3']);
    const byUser = (await ck.MessagesApi.listMessages(25, undefined, undefined, undefined, 'john')).data;
    expect(byUser._embedded!.messages!.length).toBe(7);
    const all = (await ck.MessagesApi.listMessages(2)).data;
    expect(all._embedded!.messages).toHaveLength(2);
    expect(all.page.total).toBeGreaterThan(10);
  });

  it('threads: replies carry nested_level and parent, the parent counts them, USER:REPLIED_TO:MESSAGE goes to its author', async () => {
    const { data: parent } = await ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: 'question', user: { username: 'john' } } as any);
    const { data: thread } = await ck.ThreadsApi.retrieveThread(parent.id);
    expect(thread).toMatchObject({ id: parent.id, type: 'MESSAGE', properties: {} });
    const { data: reply } = await ck.ThreadsApi.sendThreadMessage(parent.id, { type: 'TEXT', body: 'answer', user: { username: 'jane' } } as any);
    expect(reply).toMatchObject({ type: 'TEXT', body: 'answer', channel_id: general.id, nested_level: 1, parent_id: parent.id });
    const { data: replies } = await ck.ThreadsApi.listThreadMessages(parent.id);
    expect(replies._embedded!.messages!.map((m) => m.id)).toEqual([reply.id]);
    expect((await ck.MessagesApi.retrieveMessage(parent.id)).data).toMatchObject({ replies_count: 1 });
    const channelList = (await ck.ChannelsApi.listChannelMessages(general.id)).data;
    expect(channelList._embedded!.messages!.map((m) => m.id)).not.toContain(reply.id);
    await expectEventually(() => {
      const n = ofChannel(general.id).filter((e) => e.type === 'user.received.notification' && (e.data as any).notification.data.message.id === reply.id);
      expect(n.map((e) => [(e.data as any).user.name, (e.data as any).notification.data.type])).toEqual([['john', 'USER:REPLIED_TO:MESSAGE']]);
      expect((n[0].data as any).notification.data.parent).toMatchObject({ id: parent.id });
    });
    const ks = await ck.ThreadsApi.sendThreadKeystrokes(parent.id, { keys: 'ty', user: { username: 'jane' } });
    expect(ks.data).toMatchObject({ keys: 'ty', username: 'jane' });
  });

  it('retrieves, updates and deletes messages; read receipts; user channels and messages', async () => {
    const { data: m } = await ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: 'draft', user: { username: 'john' } } as any);
    expect((await ck.MessagesApi.retrieveMessage(m.id)).data).toMatchObject({ id: m.id, body: 'draft' });
    const { data: upd } = await ck.MessagesApi.updateMessage(m.id, { body: 'final <@jane>', properties: { edited: true } });
    expect(upd).toMatchObject({ id: m.id, body: 'final <@jane>', properties: { edited: true } });
    expect(typeof (upd as any).last_edited_time).toBe('string');
    expect((upd as any).mentions).toEqual([expect.objectContaining({ type: 'USER', tag: '<@jane>' })]);
    const { data: receipts } = await ck.MessagesApi.listMessageReadReceipts(m.id);
    expect(receipts).toMatchObject({ _embedded: { receipts: [] }, page: { total_elements: 0 } });
    const { data: thread } = await ck.MessagesApi.deleteMessage(m.id);
    expect(thread).toMatchObject({ type: 'MAIN' });
    expect((await apiError(ck.MessagesApi.retrieveMessage(m.id))).status).toBe(404);
    await expectEventually(() => {
      const mine = ofChannel(general.id).filter((e) => (e.data as any).message?.id === m.id && e.type.startsWith('message.'));
      expect(mine.map((e) => e.type)).toEqual(['message.updated', 'message.deleted']);
    });
    const { data: chans } = await ck.UsersApi.listUserChannels(users.jane.id);
    expect(chans._embedded!.channels!.map((c) => c.id).sort()).toEqual([general.id, dm.id].sort());
    const { data: msgs } = await ck.UsersApi.listUserMessages(users.ann.id, 2);
    expect(msgs._embedded!.messages!.every((x) => x.channel_id === dm.id)).toBe(true);
    expect(msgs.page.next).toBeDefined();
  });

  it('blocking user.attempted.send_message: changes, rejects (400, no events) and fails open on timeout', async () => {
    const hookEvents: unknown[] = [];
    await server.bus.respond('executor.execution.requested.v1', 'e2e-fake-executor', async (env): Promise<ExecutionReply> => {
      const body = String((env.payload.event as any).message.body);
      hookEvents.push(env.payload.event);
      if (body.includes('forbidden')) return { outcome: 'ran', error: { name: 'Error', message: 'no forbidden words' }, logs: '', durationMs: 1 };
      if (body.includes('slow')) await new Promise((r) => setTimeout(r, 1000));
      if (body.includes('shout')) return { outcome: 'ran', result: { payload: { body: body.toUpperCase(), properties: { checked: true } } }, logs: '', durationMs: 1 };
      return { outcome: 'ran', logs: '', durationMs: 1 };
    });
    await server.bus.publish('registry.function.changed.v1', {
      type: 'function.enabled',
      version: 1,
      function: { id: 9_000_001, applicationId: app.id, triggerType: 'user.attempted.send_message', enabled: true, currentVersionNumber: 1, timeoutMs: 300, failurePolicy: 'allow' },
    });
    await expectEventually(async () => {
      const { data } = await ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: 'please shout', user: { username: 'jane' } } as any);
      expect(data).toMatchObject({ body: 'PLEASE SHOUT', properties: { checked: true } });
    });
    await expectEventually(() =>
      expect(ofChannel(general.id).some((e) => e.type === 'user.sent.message' && (e.data as any).message.body === 'PLEASE SHOUT')).toBe(true),
    );
    // The function receives the SDK's wire format: the trigger's keys camelCase, the resources snake_case.
    for (const ev of hookEvents) expect(TRIGGERS['user.attempted.send_message'].payload.safeParse(ev).error).toBeUndefined();
    expect(hookEvents[0]).toMatchObject({ user: { name: 'jane', display_name: 'JANE' }, channel: { id: general.id, created_time: expect.any(String) } });
    const before = ofChannel(general.id).length;
    const rejected = await apiError(ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: 'forbidden', user: { username: 'jane' } } as any));
    expect(rejected).toMatchObject({ status: 400, data: { error: 'MessageRejectedError', message: 'no forbidden words' } });
    const slow = await ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: 'slow one', user: { username: 'jane' } } as any);
    expect(slow.data).toMatchObject({ body: 'slow one' });
    // System messages are not user attempts: never checked.
    expect((await ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: 'forbidden system' } as any)).data.type).toBe('SYSTEM_TEXT');
    await expectEventually(() => {
      const bodies = ofChannel(general.id).slice(before).filter((e) => e.type === 'user.sent.message').map((e) => (e.data as any).message.body);
      expect(bodies).toEqual(['slow one']);
    });
    const { data: list } = await ck.MessagesApi.listMessages(25, undefined, undefined, undefined, undefined, 'forbidden');
    expect(list._embedded!.messages!.map((x: any) => x.type)).toEqual(['SYSTEM_TEXT']);
    await server.bus.publish('registry.function.changed.v1', {
      type: 'function.disabled',
      version: 2,
      function: { id: 9_000_001, applicationId: app.id, triggerType: 'user.attempted.send_message', enabled: false, currentVersionNumber: 1, timeoutMs: 300, failurePolicy: 'allow' },
    });
  });

  it('answers 400 naming the field and 404 for unknown or other-application ids', async () => {
    const send = (b: unknown) => apiError(ck.ChannelsApi.sendChannelMessage(general.id, b as any));
    expect((await send({})).data.message).toMatch(/^type:/);
    expect((await send({ type: 'VIDEO' })).data.message).toMatch(/^type: must be one of TEXT, FILE/);
    expect((await send({ type: 'TEXT' })).data.message).toMatch(/^body:/);
    expect((await send({ type: 'TEXT', body: 5 })).data.message).toMatch(/^body:/);
    expect((await send({ type: 'TEXT', body: 'x', user: { username: 'ghost' } })).status).toBe(404);
    expect((await send({ type: 'FILE', file: { url: 'nope' } })).data.message).toMatch(/^file\./);
    expect((await apiError(ck.ChannelsApi.listChannelMessages(general.id, 0))).data.message).toMatch(/^size:/);
    expect((await apiError(ck.ChannelsApi.listChannelMessages(general.id, 5, undefined, undefined, 'SIDEWAYS' as any))).data.message).toMatch(/^relation:/);
    expect((await apiError(ck.MessagesApi.updateMessage(1, { body: 7 }))).data.message).toMatch(/^body:/);
    const { data: mine } = await ck.MessagesApi.listMessages(1);
    const id = mine._embedded!.messages![0].id;
    expect((await apiError(ckOther.MessagesApi.retrieveMessage(id))).status).toBe(404);
    expect((await apiError(ckOther.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: 'x' } as any))).status).toBe(404);
    expect((await apiError(ckOther.ThreadsApi.retrieveThread(id))).status).toBe(404);
    expect((await apiError(ckOther.UsersApi.listUserNotifications(users.jane.id))).status).toBe(404);
    expect((await apiError(ck.MessagesApi.retrieveMessage(987_654_321))).data).toMatchObject({ error: 'ResourceNotFoundError' });
  });

  it('a send racing the deletion of its channel or parent message is a 404, never a 500 (found by a race test: were 500s)', async () => {
    const status = async (p: Promise<unknown>) => {
      try {
        await p;
        return 201;
      } catch (e: any) {
        if (!e?.response) throw e;
        expect(e.response.data).toMatchObject({ error: expect.any(String), message: expect.any(String) });
        return e.response.status as number;
      }
    };
    for (let round = 0; round < 3; round++) {
      const doomed = (await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: `doomed-${round}`, members: [{ username: 'jane' }, { username: 'john' }] } as any)).data;
      const parent = (await ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: `parent ${round}`, user: { username: 'jane' } } as any)).data;
      const sends = Array.from({ length: 24 }, (_, i) =>
        i % 2
          ? status(ck.ChannelsApi.sendChannelMessage(doomed.id, { type: 'TEXT', body: `x${i}`, user: { username: 'jane' } } as any))
          : status(ck.ThreadsApi.sendThreadMessage(parent.id, { type: 'TEXT', body: `r${i}`, user: { username: 'john' } } as any)),
      );
      await new Promise((r) => setTimeout(r, 5 * round));
      await Promise.all([ck.ChannelsApi.deleteChannel(doomed.id), ck.MessagesApi.deleteMessage(parent.id)]);
      const statuses = await Promise.all(sends);
      expect(statuses.filter((s) => s !== 201 && s !== 404)).toEqual([]);
    }
  });

  it('limits a body to CHATFN_MAX_MESSAGE_LENGTH characters and CHATFN_MAX_MESSAGE_MENTIONS tags: 400 naming body, nothing stored', async () => {
    const eventsBefore = ofChannel(general.id).length;
    const tags = (n: number) => '<@john>'.repeat(n);
    const send = (body: string, parent?: number) =>
      apiError(
        parent === undefined
          ? ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body, user: { username: 'jane' } } as any)
          : ck.ThreadsApi.sendThreadMessage(parent, { type: 'TEXT', body, user: { username: 'jane' } } as any),
      );
    const long = await send('x'.repeat(20_001));
    expect(long.status).toBe(400);
    expect(long.data).toMatchObject({ error: 'InvalidRequestError', message: 'body: must be at most 20000 characters (has 20001)' });
    const many = await send(tags(101));
    expect(many.status).toBe(400);
    expect(many.data.message).toMatch(/^body: must have at most 100 mentions/);
    // At the limits it goes through: 20,000 characters, 100 tags (one user: one notification, 100 mention entries).
    const { data: edge } = await ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: 'y'.repeat(20_000), user: { username: 'jane' } } as any);
    const { data: tagged } = await ck.ChannelsApi.sendChannelMessage(general.id, { type: 'TEXT', body: tags(100), user: { username: 'jane' } } as any);
    expect((tagged as any).mentions).toHaveLength(100);
    // A thread reply and an edit are held to the same limits; the edit leaves the message as it was.
    expect((await send(tags(101), edge.id)).status).toBe(400);
    const edit = await apiError(ck.MessagesApi.updateMessage(edge.id, { body: 'z'.repeat(20_001) }));
    expect(edit.data.message).toMatch(/^body: must be at most 20000 characters/);
    expect((await ck.MessagesApi.retrieveMessage(edge.id)).data).toMatchObject({ body: 'y'.repeat(20_000) });
    // Only the two accepted messages were stored: a chat event each, none for the refused ones (nor an update).
    const since = () => ofChannel(general.id).slice(eventsBefore);
    await expectEventually(() => expect(since().filter((e) => e.type === 'user.sent.message')).toHaveLength(2));
    expect(since().filter((e) => e.type === 'message.updated')).toHaveLength(0);
  });
});
