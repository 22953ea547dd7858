/**
 * Conformance of the chat core (applications, OAuth2, ApplicationApi, UsersApi, sessions, imports/jobs, analytics,
 * OpenAPI) through the real `chatkitty@2.106.8` SDK against a running chat service on a real PostgreSQL.
 */
import { createHmac } from 'node:crypto';
import { AxiosError } from 'axios';
import { ChatKitty } from 'chatkitty';
import { DataSource } from 'typeorm';
import { ChatEventPayload, Envelope } from '@chatfn/contracts';
import { startTestServer, TestApplication, TestServer, waitFor } from '@chatfn/testing';
import { CHAT_MIGRATIONS } from '../../apps/chat/src/chat.migrations';
import { ChatModule } from '../../apps/chat/src/chat.module';
import { ApplicationsService } from '../../apps/chat/src/applications/applications.service';
import { main as cli } from '../../apps/chat/cli/chatfn.cli';

let server: TestServer;
let appA: TestApplication;
let appB: TestApplication;
let kitty: ChatKitty;
let kittyB: ChatKitty;
const events: ChatEventPayload[] = [];

/** The rejected SDK call's HTTP status and ApiError body. */
async function failure(p: Promise<unknown>): Promise<{ status: number; body: Record<string, any> }> {
  try {
    await p;
  } catch (e) {
    const r = (e as AxiosError).response;
    if (!r) throw e;
    return { status: r.status, body: r.data as Record<string, any> };
  }
  throw new Error('expected the call to fail');
}

function expectApiError(body: Record<string, any>, error: string) {
  expect(body).toEqual(expect.objectContaining({ error, message: expect.any(String), timestamp: expect.any(String) }));
}

async function raw(method: string, path: string, opts: { token?: string; body?: string; type?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.type) headers['content-type'] = opts.type;
  const r = await fetch(`${server.url}${path}`, { method, headers, body: opts.body });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

beforeAll(async () => {
  server = await startTestServer({
    definition: { name: 'chat', modules: [ChatModule], migrations: CHAT_MIGRATIONS },
    env: { CHATFN_BOOTSTRAP_CLIENT_ID: 'bootstrap-client', CHATFN_BOOTSTRAP_CLIENT_SECRET: 'bootstrap-secret-123' },
  });
  await server.bus.subscribe(
    'chat.event.recorded.v1',
    'core-e2e',
    async (env: Envelope<ChatEventPayload>) => {
      events.push(env.payload);
    },
    { fromBeginning: true },
  );
  appA = await server.createApplication('app-a');
  appB = await server.createApplication('app-b');
  kitty = new ChatKitty(server.sdkConfig(appA));
  kittyB = new ChatKitty(server.sdkConfig(appB));
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('applications and OAuth2', () => {
  it('creates applications through the admin API, secret shown once', async () => {
    expect(appA).toEqual({ id: expect.any(Number), name: 'app-a', client_id: expect.any(String), client_secret: expect.any(String), api_key: expect.any(String) });
    const list = await raw('GET', '/admin/applications', { token: server.adminToken });
    expect(list.status).toBe(200);
    const names = list.body.applications.map((a: { name: string }) => a.name);
    expect(names).toEqual(expect.arrayContaining(['app-a', 'app-b', 'default']));
    expect(JSON.stringify(list.body)).not.toContain(appA.client_secret);
    expect((await raw('GET', '/admin/applications', { token: 'wrong-token-wrong-token' })).status).toBe(401);
    const bad = await raw('POST', '/admin/applications', { token: server.adminToken, body: '{}', type: 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/name/);
  });

  it('bootstraps the configured application at start-up', async () => {
    const boot = new ChatKitty({ ...server.sdkConfig(appA), clientId: 'bootstrap-client', clientSecret: 'bootstrap-secret-123' });
    const { data } = await boot.ApplicationApi.retrieveApplication();
    expect(data).toEqual(expect.objectContaining({ id: expect.any(Number), key: expect.any(String), created_time: expect.any(String) }));
  });

  it('keeps the bootstrap application on a second start (idempotent), re-hashing a changed secret', async () => {
    const apps = server.app.get(ApplicationsService);
    const first = await apps.ensure('bootstrap-client', 'bootstrap-secret-123', 'default');
    const second = await apps.ensure('bootstrap-client', 'bootstrap-secret-456', 'default');
    expect(second.id).toBe(first.id);
    expect(await apps.authenticate('bootstrap-client', 'bootstrap-secret-123')).toBeUndefined();
    expect((await apps.authenticate('bootstrap-client', 'bootstrap-secret-456'))?.id).toBe(first.id);
  });

  it('creates and lists applications with the CLI', async () => {
    const lines: string[] = [];
    const code = await cli(['applications', 'create', '--name', 'cli-app', '--url', server.url, '--admin-token', server.adminToken, '--json'], {}, (l) => lines.push(l));
    expect(code).toBe(0);
    const created = JSON.parse(lines.join('\n'));
    expect(created).toEqual(expect.objectContaining({ name: 'cli-app', client_id: expect.any(String), client_secret: expect.any(String) }));
    const viaCli = new ChatKitty({ ...server.sdkConfig(appA), clientId: created.client_id, clientSecret: created.client_secret });
    expect((await viaCli.ApplicationApi.retrieveApplication()).data.id).toBe(created.id);
    lines.length = 0;
    await cli(['applications', 'list'], { CHATFN_PUBLIC_URL: server.url, CHATFN_ADMIN_TOKEN: server.adminToken }, (l) => lines.push(l));
    expect(lines.join('\n')).toContain('cli-app');
    await expect(cli(['applications', 'create', '--name', 'x', '--url', server.url], {}, () => undefined)).rejects.toThrow(/admin token/);
  });

  it('has no admin API when CHATFN_ADMIN_TOKEN is not configured', async () => {
    const bare = await startTestServer({
      definition: { name: 'chat', modules: [ChatModule], migrations: CHAT_MIGRATIONS },
      env: { CHATFN_ADMIN_TOKEN: '' },
    });
    try {
      const r = await fetch(`${bare.url}/admin/applications`, { headers: { authorization: 'Bearer anything-anything-anything' } });
      expect(r.status).toBe(404);
      expect(((await r.json()) as { message: string }).message).toMatch(/CHATFN_ADMIN_TOKEN/);
    } finally {
      await bare.close();
    }
  });

  it('issues tokens over multipart/form-data (the SDK) and x-www-form-urlencoded', async () => {
    const { data } = await kitty.ApplicationApi.retrieveApplication();
    expect(data.id).toBe(appA.id);
    const t = await server.accessToken(appA);
    expect(t.split('.')).toHaveLength(3);
    const form = new FormData();
    form.append('grant_type', 'client_credentials');
    form.append('client_id', appA.client_id);
    form.append('client_secret', appA.client_secret);
    const r = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: form });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: expect.any(Number), scope: expect.any(String) });
  });

  it('rejects wrong credentials with 401 AuthenticationError and bad grants with 400', async () => {
    const wrong = new ChatKitty({ ...server.sdkConfig(appA), clientSecret: 'not-the-secret' });
    const f = await failure(wrong.ApplicationApi.retrieveApplication());
    expect(f.status).toBe(401);
    expectApiError(f.body, 'AuthenticationError');
    const basic = `Basic ${Buffer.from(`${appA.client_id}:${appA.client_secret}`).toString('base64')}`;
    for (const body of ['', 'grant_type=password']) {
      const r = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { message: string }).message).toMatch(/grant_type/);
    }
  });

  it('rejects expired, foreign and missing tokens with 401', async () => {
    const sign = (secret: string, claims: object) => {
      const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
      const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
    };
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: String(appA.id), client_id: appA.client_id, scope: '', iat: now - 7200, exp: now - 3600, jti: 'x', iss: 'chatfn' };
    const expired = sign(server.secrets.tokenSecret, claims);
    const foreign = sign('some-other-installation-secret-0123456789', { ...claims, exp: now + 3600 });
    for (const t of [expired, foreign, 'garbage']) {
      const r = await raw('GET', '/v1/application', { token: t });
      expect(r.status).toBe(401);
      expectApiError(r.body, 'AuthenticationError');
    }
    expect((await raw('GET', '/v1/users')).status).toBe(401);
  });
});

describe('ApplicationApi', () => {
  it('reads and updates settings; unknown enum values are a 400 naming the field', async () => {
    const { data } = await kitty.ApplicationApi.retrieveApplicationSettings();
    expect(data).toEqual(expect.objectContaining({ guest_users: 'DISABLED', user_created_channels: 'DISABLED' }));
    const updated = await kitty.ApplicationApi.updateApplicationSettings({ guest_users: 'ENABLED', user_created_channels: 'DISABLED' });
    expect(updated.data.guest_users).toBe('ENABLED');
    expect((await kitty.ApplicationApi.retrieveApplicationSettings()).data.guest_users).toBe('ENABLED');
    expect((await kittyB.ApplicationApi.retrieveApplicationSettings()).data.guest_users).toBe('DISABLED');
    const f = await failure(kitty.ApplicationApi.updateApplicationSettings({ guest_users: 'MAYBE' as never, user_created_channels: 'DISABLED' }));
    expect(f.status).toBe(400);
    expect(f.body.message).toMatch(/guest_users/);
  });

  it('answers 501 for analytics', async () => {
    const f = await failure(kitty.AnalyticsApi.exportUserAnalytics());
    expect(f.status).toBe(501);
    expectApiError(f.body, 'NotImplementedError');
    expect((await failure(kitty.AnalyticsApi.exportMessageAnalytics())).status).toBe(501);
  });
});

describe('UsersApi', () => {
  let aliceId: number;

  it('creates a user with the SDK field names and records user.created', async () => {
    const { data } = await kitty.UsersApi.createUser({ name: 'alice', display_name: 'Alice', is_guest: false, properties: { team: 'red' as never } });
    aliceId = data.id;
    expect(data).toEqual(
      expect.objectContaining({
        id: expect.any(Number),
        type: 'PERSON',
        name: 'alice',
        display_name: 'Alice',
        display_picture_url: expect.any(String),
        isGuest: false,
        presence: { online: false, status: 'UNAVAILABLE' },
        properties: { team: 'red' },
      }),
    );
    expect(data._links).toEqual(expect.objectContaining({ self: { href: `${server.url}/v1/users/${data.id}` } }));
    await waitFor(() => events.find((e) => e.type === 'user.created' && e.userId === aliceId), { what: 'user.created on the bus' });
    const e = events.find((x) => x.type === 'user.created' && x.userId === aliceId)!;
    expect(e).toEqual(expect.objectContaining({ applicationId: appA.id, depth: 0 }));
    expect((e.data.user as { name: string }).name).toBe('alice');
  });

  it('takes the event depth from X-Chatfn-Event-Depth', async () => {
    const t = await server.accessToken(appA);
    const r = await fetch(`${server.url}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json', 'x-chatfn-event-depth': '3' },
      body: JSON.stringify({ name: 'deep', display_name: 'Deep', is_guest: false }),
    });
    expect(r.status).toBe(201);
    const id = ((await r.json()) as { id: number }).id;
    const e = await waitFor(() => events.find((x) => x.type === 'user.created' && x.userId === id));
    expect(e.depth).toBe(3);
    const bad = await raw('POST', '/v1/users', { token: t, type: 'application/json', body: '{}' });
    expect(bad.status).toBe(400);
  });

  it('rejects duplicates (409) and bad input (400 naming the field), never 500', async () => {
    const dup = await failure(kitty.UsersApi.createUser({ name: 'alice', display_name: 'Again', is_guest: false }));
    expect(dup.status).toBe(409);
    expectApiError(dup.body, 'DuplicateResourceError');
    const t = await server.accessToken(appA);
    const cases: [string, RegExp][] = [
      ['{"name": "x", ', /JSON/i],
      [JSON.stringify({ display_name: 'No name', is_guest: false }), /name/],
      [JSON.stringify({ name: 42, display_name: 'x', is_guest: false }), /name/],
      [JSON.stringify({ name: 'y', display_name: 'y', is_guest: 'yes' }), /is_guest/],
      [JSON.stringify({ name: 'z', display_name: 'z', is_guest: false, properties: [] }), /properties/],
      ['[]', /body|expected object/i],
    ];
    for (const [body, field] of cases) {
      const r = await raw('POST', '/v1/users', { token: t, type: 'application/json', body });
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expectApiError(r.body, 'InvalidRequestError');
      expect(r.body.message).toMatch(field);
    }
    expect((await raw('GET', '/v1/users/abc', { token: t })).status).toBe(400);
    expect((await raw('GET', '/v1/users?page=-1', { token: t })).body.message).toMatch(/page/);
    expect((await raw('GET', '/v1/users?sort=password', { token: t })).body.message).toMatch(/sort/);
    expect((await raw('GET', '/v1/users?properties=notjson', { token: t })).body.message).toMatch(/properties/);
  });

  it('refuses text PostgreSQL cannot store and out-of-range pages with a 400 naming where (found by fuzzing: were 500s)', async () => {
    const t = await server.accessToken(appA);
    const alice = (await kitty.UsersApi.listUsers(0, 1, undefined, 'alice')).data._embedded!.users![0];
    const cases: [string, string, string | undefined, RegExp][] = [
      // NUL in a JSON string (jsonb and text refuse it), in a key, nested, and an unpaired surrogate.
      ['PATCH', `/v1/users/${alice.id}`, '{"display_name": "a\\u0000b"}', /display_name/],
      ['PATCH', `/v1/users/${alice.id}`, '{"properties": {"k\\u0000": 1}}', /properties/],
      ['PATCH', `/v1/users/${alice.id}`, '{"properties": {"list": ["ok", "\\ud800"]}}', /properties\.list\.1/],
      ['POST', '/v1/users', '{"name": "nul", "display_name": "\\u0000", "is_guest": false}', /display_name/],
      // ... in the query and in a path segment.
      ['GET', '/v1/users?name=%00', undefined, /query name/],
      ['GET', '/v1/users/%00/channels', undefined, /path/],
      // page × size must stay a valid OFFSET (1e99 is an integer).
      ['GET', '/v1/users?page=1e99', undefined, /page/],
      ['GET', '/v1/channels?page=99999999999', undefined, /page/],
    ];
    for (const [method, path, body, where] of cases) {
      const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      const r = await raw(method, path, { token: t, body, type: body ? type : undefined });
      expect({ path, body, status: r.status }).toEqual({ path, body, status: 400 });
      expectApiError(r.body, 'InvalidRequestError');
      expect(r.body.message).toMatch(where);
    }
    // Nothing was changed by the refused patches.
    expect((await kitty.UsersApi.retrieveUser(alice.id)).data.display_name).toBe(alice.display_name);
  });

  it('retrieves, checks existence (HEAD) and isolates applications (404)', async () => {
    expect((await kitty.UsersApi.retrieveUser(aliceId)).data.name).toBe('alice');
    await kitty.UsersApi.checkUserExists('alice');
    expect((await failure(kitty.UsersApi.checkUserExists('nobody'))).status).toBe(404);
    const other = await failure(kittyB.UsersApi.retrieveUser(aliceId));
    expect(other.status).toBe(404);
    expectApiError(other.body, 'ResourceNotFoundError');
    expect((await failure(kittyB.UsersApi.checkUserExists('alice'))).status).toBe(404);
    expect((await failure(kittyB.UsersApi.updateUser(aliceId, { display_name: 'hijack' }))).status).toBe(404);
    expect((await failure(kittyB.UsersApi.deleteUser(aliceId))).status).toBe(404);
    expect((await kittyB.UsersApi.listUsers()).data.page?.total_elements).toBe(0);
  });

  it('pages with page/size, filters by name and properties, sorts', async () => {
    for (let i = 0; i < 5; i++) {
      await kitty.UsersApi.createUser({ name: `pager-${i}`, display_name: `Pager ${i}`, is_guest: false, properties: { team: i % 2 ? 'blue' : 'green' } as never });
    }
    const { data: p0 } = await kitty.UsersApi.listUsers(0, 3, ['name,asc']);
    expect(p0.page).toEqual({ size: 3, total_elements: 7, total_pages: 3, number: 0 });
    expect(p0._embedded!.users!.map((u) => u.name)).toEqual(['alice', 'deep', 'pager-0']);
    const links = p0._links as unknown as Record<string, { href: string }>;
    expect(new URL(links.next.href).searchParams.get('page')).toBe('1');
    const { data: p2 } = await kitty.UsersApi.listUsers(2, 3, ['name,asc']);
    expect(p2._embedded!.users!.map((u) => u.name)).toEqual(['pager-4']);
    expect((await kitty.UsersApi.listUsers(0, 10, undefined, 'pager-3')).data._embedded!.users!.map((u) => u.name)).toEqual(['pager-3']);
    const blue = await kitty.UsersApi.listUsers(0, 10, ['name,desc'], undefined, undefined, JSON.stringify({ team: 'blue' }));
    expect(blue.data._embedded!.users!.map((u) => u.name)).toEqual(['pager-3', 'pager-1']);
  });

  it('updates with a JSON merge patch (the SDK content type) and records user.updated', async () => {
    await kitty.UsersApi.updateUser(aliceId, { properties: { level: 2, nested: { a: 1, b: 2 } } });
    const { data } = await kitty.UsersApi.updateUser(aliceId, { display_name: 'Alice A.', properties: { team: null, nested: { b: null } } });
    expect(data.display_name).toBe('Alice A.');
    expect(data.properties).toEqual({ level: 2, nested: { a: 1 } });
    await waitFor(() => events.find((e) => e.type === 'user.updated' && e.userId === aliceId));
    const t = await server.accessToken(appA);
    const bad = await raw('PATCH', `/v1/users/${aliceId}`, { token: t, type: 'application/json+merge-patch', body: '{"display_name": ' });
    expect(bad.status).toBe(400);
    expectApiError(bad.body, 'InvalidRequestError');
    const unknown = await raw('PATCH', `/v1/users/${aliceId}`, { token: t, type: 'application/json+merge-patch', body: '{"colour": "red"}' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/colour/);
  });

  it('sets, reads and removes secrets (stored encrypted)', async () => {
    const set = await kitty.UsersApi.setUserSecret(aliceId, 'stripe', { secret: { token: 'tok_123' } as never });
    expect(set.data.id).toBe(aliceId);
    expect((await kitty.UsersApi.retrieveUserSecret(aliceId, 'stripe')).data).toEqual({ secret: { token: 'tok_123' } });
    const ds = server.app.get(DataSource);
    const rows: { value_encrypted: string }[] = await ds.query('SELECT value_encrypted FROM user_secrets WHERE user_id = $1', [aliceId]);
    expect(rows[0].value_encrypted).not.toContain('tok_123');
    expect((await failure(kittyB.UsersApi.retrieveUserSecret(aliceId, 'stripe'))).status).toBe(404);
    await kitty.UsersApi.removeUserSecret(aliceId, 'stripe');
    expect((await failure(kitty.UsersApi.retrieveUserSecret(aliceId, 'stripe'))).status).toBe(404);
  });

  it('sets a display picture from an external URL and from a multipart upload served back', async () => {
    const ext = await kitty.UsersApi.updateUserDisplayPicture(aliceId, {
      url: 'https://example.com/a.png',
      name: 'a.png',
      content_type: 'image/png',
      size: 10,
    });
    expect(ext.data.display_picture_url).toBe('https://example.com/a.png');
    const t = await server.accessToken(appA);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const form = new FormData();
    form.append('file', new File([png], 'me.png', { type: 'image/png' }));
    const r = await fetch(`${server.url}/v1/users/${aliceId}/display-picture`, { method: 'POST', headers: { authorization: `Bearer ${t}` }, body: form });
    expect(r.status).toBe(201);
    const url = ((await r.json()) as { display_picture_url: string }).display_picture_url;
    expect(url).toMatch(new RegExp(`^${server.url}/files/${appA.id}/`));
    const got = await fetch(url);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await got.arrayBuffer())).toEqual(png);
    const bad = await raw('POST', `/v1/users/${aliceId}/display-picture`, { token: t, type: 'application/json', body: '{"url": "not a url"}' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/url/);
  });

  it('serves the user-scoped lists of the messaging feature (unread count)', async () => {
    const { data } = await kitty.UsersApi.countUserUnreadMessages(aliceId);
    expect(data).toEqual({ count: 0 });
    expect((await failure(kittyB.UsersApi.countUserUnreadMessages(aliceId))).status).toBe(404);
  });

  it('deletes a user (returns the application) and frees the name', async () => {
    const { data: bob } = await kitty.UsersApi.createUser({ name: 'bob', display_name: 'Bob', is_guest: true });
    const del = await kitty.UsersApi.deleteUser(bob.id);
    expect(del.data.id).toBe(appA.id);
    expect((await failure(kitty.UsersApi.retrieveUser(bob.id))).status).toBe(404);
    await waitFor(() => events.find((e) => e.type === 'user.deleted' && e.userId === bob.id));
    const again = await kitty.UsersApi.createUser({ name: 'bob', display_name: 'Bob 2', is_guest: false });
    expect(again.data.id).not.toBe(bob.id);
  });
});

describe('UserSessionsApi and ChatSessionsApi', () => {
  it('lists sessions with state filters', async () => {
    const ds = server.app.get(DataSource);
    const alice = (await kitty.UsersApi.listUsers(0, 1, undefined, 'alice')).data._embedded!.users![0];
    const [{ id: active }] = await ds.query(
      `INSERT INTO user_sessions (application_id, user_id, state, user_agent) VALUES ($1, $2, 'ACTIVE', 'jest') RETURNING id`,
      [appA.id, alice.id],
    );
    await ds.query(`INSERT INTO user_sessions (application_id, user_id, state, end_time) VALUES ($1, $2, 'ENDED', now())`, [appA.id, alice.id]);
    await ds.query(`INSERT INTO chat_sessions (application_id, user_session_id, user_id, channel_id) VALUES ($1, $2, $3, 77)`, [appA.id, active, alice.id]);
    const all = await kitty.UserSessionsApi.listUserSessions();
    expect(all.data.page?.total_elements).toBe(2);
    const act = await kitty.UserSessionsApi.listUserSessions(0, 10, undefined, 'ACTIVE');
    expect(act.data._embedded!.sessions).toEqual([
      expect.objectContaining({ id: Number(active), state: 'ACTIVE', user_agent: 'jest', created_time: expect.any(String), user: expect.objectContaining({ name: 'alice' }) }),
    ]);
    const ended = await kitty.UserSessionsApi.listUserSessions(0, 10, undefined, 'ENDED');
    expect(ended.data._embedded!.sessions![0]).toEqual(expect.objectContaining({ state: 'ENDED', end_time: expect.any(String) }));
    const chat = await kitty.ChatSessionsApi.listChatSessions(0, 10, undefined, 'ACTIVE');
    expect(chat.data._embedded!.sessions).toEqual([
      expect.objectContaining({ state: 'ACTIVE', session: expect.objectContaining({ id: Number(active), user: expect.objectContaining({ name: 'alice' }) }) }),
    ]);
    expect((await kittyB.UserSessionsApi.listUserSessions()).data.page?.total_elements).toBe(0);
    expect((await failure(kitty.UserSessionsApi.listUserSessions(0, 10, undefined, 'SLEEPING' as never))).body.message).toMatch(/state/);
  });
});

describe('ImportsApi and JobsApi', () => {
  const file = (items: unknown, name = 'users.json') => new File([JSON.stringify(items)], name, { type: 'application/json' });
  const finished = (id: number) =>
    waitFor(async () => {
      const { data } = await kitty.JobsApi.retrieveJob(id);
      return data.state === 'FINISHED' || data.state === 'FAILED' ? data : undefined;
    }, { what: `job ${id} to end` });

  it('imports users in a background job that runs to FINISHED, idempotently', async () => {
    const items = [
      { name: 'imp-1', display_name: 'Imported 1', guest: false, properties: { src: 'csv' }, idempotency_key: 'k1' },
      { name: 'imp-2', display_name: 'Imported 2', guest: true, properties: {}, idempotency_key: 'k2' },
    ];
    const { data: job } = await kitty.ImportsApi.importUsers(file(items));
    expect(job).toEqual(expect.objectContaining({ id: expect.any(Number), type: 'USER_IMPORT', file: 'users.json', created_time: expect.any(String) }));
    expect(['PENDING', 'RUNNING', 'FINISHED']).toContain(job.state);
    const done = await finished(job.id);
    expect(done).toEqual(expect.objectContaining({ state: 'FINISHED', ended_time: expect.any(String) }));
    expect((await kitty.UsersApi.listUsers(0, 10, undefined, 'imp-2')).data._embedded!.users![0]).toEqual(
      expect.objectContaining({ display_name: 'Imported 2', isGuest: true }),
    );
    const again = await finished((await kitty.ImportsApi.importUsers(file(items))).data.id);
    expect(again.state).toBe('FINISHED');
    const list = await kitty.JobsApi.listJobs(0, 10);
    expect(list.data._embedded!.jobs!.map((j) => j.id)).toEqual(expect.arrayContaining([job.id, again.id]));
    expect((await kittyB.JobsApi.listJobs()).data.page?.total_elements).toBe(0);
    expect((await failure(kittyB.JobsApi.retrieveJob(job.id))).status).toBe(404);
  });

  it('ends FAILED with per-item details, keeping the good items', async () => {
    const items = [{ name: 'imp-ok', display_name: 'OK', guest: false, properties: {} }, { name: 'imp-bad', guest: false, properties: {} }, { name: 'alice', display_name: 'Dup', guest: false, properties: {} }];
    const done = (await finished((await kitty.ImportsApi.importUsers(file(items))).data.id)) as unknown as Record<string, any>;
    expect(done.state).toBe('FAILED');
    expect(done.error.items).toEqual([
      { index: 1, message: expect.stringMatching(/display_name/) },
      { index: 2, message: expect.stringMatching(/alice/) },
    ]);
    await kitty.UsersApi.checkUserExists('imp-ok');
  });

  it('rejects a file that is not a JSON array with 400 naming the file', async () => {
    const f = await failure(kitty.ImportsApi.importUsers(new File(['{"not": "array"}'], 'x.json')));
    expect(f.status).toBe(400);
    expect(f.body.message).toMatch(/file/);
    const g = await failure(kitty.ImportsApi.importUsers(new File(['nope'], 'x.json')));
    expect(g.status).toBe(400);
    // Text PostgreSQL cannot store, in any item, is named (item and field) and no job is made (was a 500).
    const jobsBefore = (await kitty.JobsApi.listJobs()).data.page?.total_elements;
    const nul = await failure(kitty.ImportsApi.importUsers(new File(['[{"name": "fine", "display_name": "F"}, {"name": "n", "display_name": "a\\u0000"}]'], 'x.json')));
    expect(nul.status).toBe(400);
    expect(nul.body.message).toBe('file: item 1 display_name: must not contain NUL characters or unpaired UTF-16 surrogates');
    expect((await kitty.JobsApi.listJobs()).data.page?.total_elements).toBe(jobsBefore);
  });
});

describe('OpenAPI', () => {
  it('describes the served routes', async () => {
    const r = await raw('GET', '/v1/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    expect(r.body.paths['/v1/users/{id}']).toEqual(
      expect.objectContaining({ get: expect.objectContaining({ operationId: 'retrieveUser' }), patch: expect.any(Object), delete: expect.any(Object) }),
    );
    expect(r.body.paths['/oauth/token'].post.summary).toMatch(/token/);
    expect(r.body.paths['/v1/imports/users'].post).toBeDefined();
  });
});
