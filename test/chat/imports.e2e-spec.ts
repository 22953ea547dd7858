/**
 * Channel, channel-member and message imports (ImportsApi + JobsApi), `listUsers?unread=true` and the application's
 * read-receipt summaries, through the real `chatkitty@2.106.8` SDK against a running chat service on a real
 * PostgreSQL.
 */
import { AxiosError } from 'axios';
import { ChatKitty } from 'chatkitty';
import { ChatEventPayload, Envelope } from '@chatfn/contracts';
import { startTestServer, TestServer, waitFor } from '@chatfn/testing';
import { DataSource } from 'typeorm';
import { CHAT_MIGRATIONS } from '../../apps/chat/src/chat.migrations';
import { ChatModule } from '../../apps/chat/src/chat.module';

jest.setTimeout(120_000);

type Json = Record<string, any>;

let server: TestServer;
let kitty: ChatKitty;
let kittyB: ChatKitty;
let appId: number;
const events: ChatEventPayload[] = [];
const users: Record<string, Json> = {};

async function failure(p: Promise<unknown>): Promise<{ status: number; body: Json }> {
  try {
    await p;
  } catch (e) {
    const r = (e as AxiosError).response;
    if (!r) throw e;
    return { status: r.status, body: r.data as Json };
  }
  throw new Error('expected the call to fail');
}

const file = (items: unknown, name = 'import.json') => new File([typeof items === 'string' ? items : JSON.stringify(items)], name, { type: 'application/json' });

/** Waits for the job to end; returns it with chatfn's `processed`/`total`/`error` details. */
async function finished(p: Promise<{ data: { id: number } }>, timeoutMs = 30_000): Promise<Json> {
  const { data: job } = await p;
  return waitFor(
    async () => {
      const { data } = await kitty.JobsApi.retrieveJob(job.id);
      return data.state === 'FINISHED' || data.state === 'FAILED' ? (data as unknown as Json) : undefined;
    },
    { what: `job ${job.id} to end`, timeoutMs },
  );
}

async function channelByName(name: string): Promise<Json> {
  const { data } = await kitty.ChannelsApi.listChannels(0, 100);
  const found = (data._embedded?.channels ?? []).find((c: Json) => c.name === name);
  if (!found) throw new Error(`no channel named ${name}`);
  return found as Json;
}

async function memberNames(channelId: number): Promise<string[]> {
  const { data } = await kitty.ChannelsApi.listChannelMembers(channelId, 0, 100);
  return ((data._embedded?.users ?? []) as Json[]).map((u) => u.name).sort();
}

async function channelMessages(channelId: number, size = 50): Promise<{ items: Json[]; total: number }> {
  const { data } = await kitty.ChannelsApi.listChannelMessages(channelId, size);
  return { items: ((data._embedded?.messages ?? []) as Json[]), total: Number((data.page as Json).total) };
}

/** Sends a custom event into the channel and waits for it on the bus: the events recorded before it are there too. */
async function settle(channelId: number): Promise<void> {
  const type = `marker-${Math.random().toString(36).slice(2)}`;
  await kitty.ChannelsApi.sendChannelEvent(channelId, { type, properties: {} } as never);
  await waitFor(() => events.some((e) => e.type === 'system.triggered.event' && (e.data as Json).event?.type === type), { what: `the ${type} event` });
}

const ofApp = (type: string, channelId?: number) =>
  events.filter((e) => e.applicationId === appId && e.type === type && (channelId === undefined || e.channelId === channelId));

beforeAll(async () => {
  server = await startTestServer({ definition: { name: 'chat-imports', modules: [ChatModule], migrations: CHAT_MIGRATIONS } });
  await server.bus.subscribe('chat.event.recorded.v1', 'imports-e2e', async (env: Envelope<ChatEventPayload>) => {
    events.push(env.payload);
  }, { fromBeginning: true });
  const appA = await server.createApplication('imports-a');
  appId = appA.id;
  kitty = new ChatKitty(server.sdkConfig(appA));
  kittyB = new ChatKitty(server.sdkConfig(await server.createApplication('imports-b')));
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) {
    users[name] = (await kitty.UsersApi.createUser({ name, display_name: name.toUpperCase(), is_guest: false, properties: {} })).data as Json;
  }
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('importChannels', () => {
  const items = [
    { type: 'PUBLIC', name: 'imp-general', display_name: 'General', creator: 'alice', members: ['bob'], properties: { src: 'ck' }, idempotency_key: 'c1' },
    { type: 'PRIVATE', display_name: 'Unnamed private', members: ['alice', 'carol'], idempotency_key: 'c2' },
    { type: 'DIRECT', members: ['alice', 'bob'], idempotency_key: 'c3' },
    { type: 'GROUP', members: ['alice'] },
    { type: 'PUBLIC', name: 'imp-ghosts', members: ['nobody'] },
    { type: 'DIRECT', members: [] },
    { type: 'DIRECT', members: ['bob', 'alice'] },
  ];
  let first: Json;

  it('creates PUBLIC, PRIVATE and DIRECT channels as the channels API does, reporting the bad items', async () => {
    first = await finished(kitty.ImportsApi.importChannels(file(items, 'channels.json')));
    expect(first).toEqual(expect.objectContaining({ type: 'CHANNEL_IMPORT', state: 'FAILED', file: 'channels.json', processed: 7, total: 7, ended_time: expect.any(String) }));
    expect(first.error.items).toEqual([
      { index: 3, message: expect.stringMatching(/type.*DIRECT, PUBLIC, PRIVATE/) },
      { index: 4, message: expect.stringMatching(/nobody/) },
      { index: 5, message: expect.stringMatching(/members/) },
    ]);

    const general = await channelByName('imp-general');
    expect(general).toEqual(expect.objectContaining({ type: 'PUBLIC', display_name: 'General', properties: { src: 'ck' } }));
    expect(general.creator).toEqual(expect.objectContaining({ name: 'alice' }));
    expect(await memberNames(general.id)).toEqual(['alice', 'bob']);

    const { data: privates } = await kitty.ChannelsApi.listChannels(0, 100, undefined, 'PRIVATE');
    expect(privates._embedded!.channels!.map((c: Json) => c.display_name)).toEqual(['Unnamed private']);
    const { data: directs } = await kitty.ChannelsApi.listChannels(0, 100, undefined, 'DIRECT');
    expect(directs._embedded!.channels).toHaveLength(1); // items 2 and 6 are the same member set
    expect(((directs._embedded!.channels![0] as Json).members as Json[]).map((u) => u.name).sort()).toEqual(['alice', 'bob']);

    await settle(general.id);
    expect(ofApp('channel.created').map((e) => e.channelId).sort()).toEqual(
      [general.id, privates._embedded!.channels![0].id, directs._embedded!.channels![0].id].sort(),
    );
  });

  it('creates nothing twice when the same file is imported again', async () => {
    const before = (await kitty.ChannelsApi.listChannels(0, 100)).data.page!.total_elements;
    const again = await finished(kitty.ImportsApi.importChannels(file(items, 'channels.json')));
    expect(again.error.items.map((i: Json) => i.index)).toEqual([3, 4, 5]);
    expect((await kitty.ChannelsApi.listChannels(0, 100)).data.page!.total_elements).toBe(before);
    expect(before).toBe(3);
    await settle((await channelByName('imp-general')).id);
    expect(ofApp('channel.created')).toHaveLength(3);

    // As if the job had crashed between creating each channel and recording its key: the keyed unnamed channel
    // got a name derived from its key, so the re-run finds it instead of creating a second one.
    const { data: privates } = await kitty.ChannelsApi.listChannels(0, 100, undefined, 'PRIVATE');
    expect((privates._embedded!.channels![0] as { name?: string }).name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await server.app.get(DataSource).query(`DELETE FROM import_keys WHERE application_id = $1 AND kind = 'channel'`, [appId]);
    await finished(kitty.ImportsApi.importChannels(file(items, 'channels.json')));
    expect((await kitty.ChannelsApi.listChannels(0, 100)).data.page!.total_elements).toBe(before);
  });

  it('keeps other applications out: their jobs and channels are not visible', async () => {
    expect((await failure(kittyB.JobsApi.retrieveJob(first.id))).status).toBe(404);
    expect((await kittyB.ChannelsApi.listChannels()).data.page!.total_elements).toBe(0);
  });
});

describe('importChannelMembers', () => {
  it('adds the users to the channel, reports unknown users, and does not re-add on a re-run', async () => {
    const general = await channelByName('imp-general');
    const items = [
      { username: 'carol', idempotency_key: 'm-carol' },
      { username: 'ghost', idempotency_key: 'm-ghost' },
      { username: 'dave' },
      { username: 'bob' },
      { user: 'typo' },
    ];
    const done = await finished(kitty.ImportsApi.importChannelMembers(general.id, file(items, 'members.json')));
    expect(done).toEqual(expect.objectContaining({ type: 'CHANNEL_MEMBERS_IMPORT', state: 'FAILED', processed: 5 }));
    expect(done.error.items).toEqual([
      { index: 1, message: expect.stringMatching(/ghost/) },
      { index: 4, message: expect.stringMatching(/username/) },
    ]);
    expect(await memberNames(general.id)).toEqual(['alice', 'bob', 'carol', 'dave']);
    await settle(general.id);
    expect(ofApp('channel.member.added', general.id).map((e) => (e.data as Json).user.name).sort()).toEqual(['alice', 'bob', 'carol', 'dave']);

    // carol leaves; the same file again does not bring her back (her item's key was imported), dave stays once.
    await kitty.ChannelsApi.removeChannelMember(general.id, users.carol.id);
    await finished(kitty.ImportsApi.importChannelMembers(general.id, file(items, 'members.json')));
    expect(await memberNames(general.id)).toEqual(['alice', 'bob', 'dave']);
  });

  it('answers 404 for another application\'s channel and 400 for a DIRECT channel', async () => {
    const general = await channelByName('imp-general');
    const f = await failure(kittyB.ImportsApi.importChannelMembers(general.id, file([{ username: 'alice' }])));
    expect(f.status).toBe(404);
    expect(f.body.error).toBe('ResourceNotFoundError');
    const { data: directs } = await kitty.ChannelsApi.listChannels(0, 10, undefined, 'DIRECT');
    const d = await failure(kitty.ImportsApi.importChannelMembers(directs._embedded!.channels![0].id, file([{ username: 'carol' }])));
    expect(d.status).toBe(400);
    expect(d.body.message).toMatch(/DIRECT/);
  });
});

describe('importMessages', () => {
  it('imports TEXT and FILE messages, system or by a user, with created_time and properties; no functions, no notifications', async () => {
    const general = await channelByName('imp-general');
    const { data: foreign } = await kittyB.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'elsewhere' } as never);
    const items = [
      { type: 'TEXT', channel_id: general.id, user: 'alice', body: 'hello from the past <@bob>', created_time: '2021-03-04T05:06:07Z', properties: { old: 1 }, idempotency_key: 'x1' },
      { type: 'SYSTEM_TEXT', channel_id: general.id, body: 'alice joined', idempotency_key: 'x2', group_tag: 'joins' },
      { type: 'TEXT', channel_id: general.id, body: 'a TEXT without user is a system message', idempotency_key: 'x3' },
      { type: 'FILE', channel_id: general.id, user: 'bob', file: { url: 'https://files.example.com/a.png', name: 'a.png', content_type: 'image/png', size: 42 }, idempotency_key: 'x4' },
      { type: 'TEXT', channel_id: general.id, user: 'nobody', body: 'who?' },
      { type: 'TEXT', channel_id: foreign.id, user: 'alice', body: 'into another app' },
      { type: 'VIDEO', channel_id: general.id, body: 'nope' },
      { type: 'TEXT', channel_id: general.id, user: 'alice', body: '' },
    ];
    const done = await finished(kitty.ImportsApi.importMessages(file(items, 'messages.json')));
    expect(done).toEqual(expect.objectContaining({ type: 'MESSAGE_IMPORT', state: 'FAILED', processed: 8, total: 8 }));
    expect(done.error.items).toEqual([
      { index: 4, message: expect.stringMatching(/user.*nobody/) },
      { index: 5, message: expect.stringMatching(new RegExp(`channel_id.*${foreign.id}`)) },
      { index: 6, message: expect.stringMatching(/type/) },
      { index: 7, message: expect.stringMatching(/body/) },
    ]);

    const { items: listed, total } = await channelMessages(general.id);
    expect(total).toBe(4);
    const byBody = (b: string) => listed.find((m) => m.body === b)!;
    expect(byBody('hello from the past <@bob>')).toEqual(
      expect.objectContaining({ type: 'TEXT', created_time: '2021-03-04T05:06:07.000Z', properties: { old: 1 }, user: expect.objectContaining({ name: 'alice' }) }),
    );
    expect(byBody('alice joined')).toEqual(expect.objectContaining({ type: 'SYSTEM_TEXT', group_tag: 'joins' }));
    expect(byBody('alice joined').user).toBeUndefined();
    expect(byBody('a TEXT without user is a system message').type).toBe('SYSTEM_TEXT');
    const fileMessage = listed.find((m) => m.type === 'FILE')!;
    expect(fileMessage.user).toEqual(expect.objectContaining({ name: 'bob' }));
    expect(fileMessage.file).toEqual(expect.objectContaining({ url: 'https://files.example.com/a.png', name: 'a.png', content_type: 'image/png', size: 42 }));
    expect((await kitty.MessagesApi.retrieveMessage(fileMessage.id)).data).toEqual(expect.objectContaining({ id: fileMessage.id, type: 'FILE' }));
    expect((await kittyB.ChannelsApi.listChannelMessages(foreign.id)).data.page).toEqual(expect.objectContaining({ total: 0 }));

    // History, not new messages: no user.sent.message for a function to react to, and nobody is notified.
    await settle(general.id);
    expect(events.filter((e) => e.channelId === general.id && e.type === 'user.sent.message')).toEqual([]);
    expect(events.filter((e) => e.applicationId === appId && e.type === 'user.received.notification')).toEqual([]);
    for (const name of ['alice', 'bob', 'carol', 'dave']) {
      const { data } = await kitty.UsersApi.listUserNotifications(users[name].id);
      expect(data._embedded?.notifications ?? []).toEqual([]);
    }

    // The same file again creates none of the keyed messages again.
    await finished(kitty.ImportsApi.importMessages(file(items.filter((i) => i.idempotency_key), 'messages.json')));
    expect((await channelMessages(general.id)).total).toBe(4);
  });

  it('imports 10,000 messages in batches', async () => {
    const { data: big } = await kitty.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'imp-big', members: [{ username: 'alice' }, { username: 'bob' }] } as never);
    const items = Array.from({ length: 10_000 }, (_, i) =>
      i % 3 === 0
        ? { type: 'SYSTEM_TEXT', channel_id: big.id, body: `system ${i}`, idempotency_key: `big-${i}` }
        : { type: 'TEXT', channel_id: big.id, user: i % 3 === 1 ? 'alice' : 'bob', body: `message ${i}`, idempotency_key: `big-${i}`, properties: { i } },
    );
    const started = Date.now();
    const done = await finished(kitty.ImportsApi.importMessages(file(items, 'big.json')), 90_000);
    const ms = Date.now() - started;
    expect(done).toEqual(expect.objectContaining({ state: 'FINISHED', processed: 10_000, total: 10_000 }));
    expect((await channelMessages(big.id, 1)).total).toBe(10_000);
    process.stdout.write(`10,000-message import: ${ms} ms (upload to FINISHED)\n`);
    const again = await finished(kitty.ImportsApi.importMessages(file(items, 'big.json')), 90_000);
    expect(again.state).toBe('FINISHED');
    expect((await channelMessages(big.id, 1)).total).toBe(10_000);
  });

  it('rejects malformed files with 400 naming the problem', async () => {
    const notJson = await failure(kitty.ImportsApi.importMessages(file('[{"type": "TEXT",', 'broken.json')));
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toMatch(/file.*JSON/);
    const notArray = await failure(kitty.ImportsApi.importChannels(file({ type: 'PUBLIC' })));
    expect(notArray.status).toBe(400);
    expect(notArray.body.message).toMatch(/file.*array/);
    const notObjects = await failure(kitty.ImportsApi.importMessages(file([{ type: 'TEXT', channel_id: 1, body: 'x' }, 'hello'])));
    expect(notObjects.status).toBe(400);
    expect(notObjects.body.message).toMatch(/file: item 1 must be a JSON object/);
    expect(notObjects.body.properties.errors).toEqual([expect.objectContaining({ field: 'file[1]' })]);
    const general = await channelByName('imp-general');
    const members = await failure(kitty.ImportsApi.importChannelMembers(general.id, file('nope')));
    expect(members.status).toBe(400);
  });
});

describe('unread users and read-receipt summaries', () => {
  it('lists only users with unread messages', async () => {
    const { data } = await kitty.UsersApi.listUsers(0, 25, undefined, undefined, true);
    // alice, bob, dave are in channels with messages of others; carol left imp-general and her private channel is
    // empty; erin is in no channel.
    expect((data._embedded!.users as Json[]).map((u) => u.name).sort()).toEqual(['alice', 'bob', 'dave']);
    expect(data.page!.total_elements).toBe(3);
    const all = await kitty.UsersApi.listUsers(0, 25, undefined, undefined, false);
    expect(all.data.page!.total_elements).toBe(5);
    expect((await kittyB.UsersApi.listUsers(0, 25, undefined, undefined, true)).data.page!.total_elements).toBe(0);
    for (const name of ['alice', 'bob', 'dave']) {
      expect((await kitty.UsersApi.countUserUnreadMessages(users[name].id)).data.count).toBeGreaterThan(0);
    }
    expect((await kitty.UsersApi.countUserUnreadMessages(users.erin.id)).data.count).toBe(0);
  });

  it('summarises unread messages per channel member', async () => {
    const general = await channelByName('imp-general');
    const big = await channelByName('imp-big');
    const { data } = await kitty.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({ page: 0, size: 10 });
    const rows = ((data._embedded?.summaries ?? []) as Json[]).map((s) => [s.channel.name, s.user.name, s.count]);
    // imp-general: 4 messages (alice TEXT, 2 system, bob FILE); imp-big: 3,334 system, 3,333 by alice, 3,333 by bob.
    expect(rows).toEqual([
      ['imp-general', 'alice', 3],
      ['imp-general', 'bob', 3],
      ['imp-general', 'dave', 4],
      ['imp-big', 'alice', 6667],
      ['imp-big', 'bob', 6667],
    ]);
    expect(general.id).toBeLessThan(big.id);
    expect(data.page).toEqual(expect.objectContaining({ total_elements: 5, number: 0, size: 10 }));
    const p2 = (await kitty.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({ page: 1, size: 2 })).data;
    expect(((p2._embedded?.summaries ?? []) as Json[]).map((s) => s.user.name)).toEqual(['dave', 'alice']);
    expect(p2.page).toEqual(expect.objectContaining({ total_elements: 5, total_pages: 3 }));
    expect((await kittyB.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({})).data.page!.total_elements).toBe(0);
    const bad = await failure(kitty.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({ size: -1 }));
    expect(bad.status).toBe(400);
  });
});
