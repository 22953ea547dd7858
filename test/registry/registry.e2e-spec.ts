import { ChatKitty } from 'chatkitty';
import { DataSource } from 'typeorm';
import { FunctionChangedPayload, RuntimeChangedPayload } from '@chatfn/contracts';
import { FunctionDirectory, RuntimeDirectory } from '@chatfn/function-directory';
import { expectEventually, startTestServer, TestApplication, TestServer, waitFor } from '@chatfn/testing';
import { CHAT_MIGRATIONS } from '../../apps/chat/src/chat.migrations';
import { ChatModule } from '../../apps/chat/src/chat.module';
import { REGISTRY_MIGRATIONS } from '../../apps/registry/src/registry.migrations';
import { RegistryModule } from '../../apps/registry/src/registry.module';

jest.setTimeout(60_000);

/** Conformance of the registry through the real chatkitty@2.106.8 SDK, real PostgreSQL, the real bus. */

const HANDLER = `import _ from 'lodash';
async function handleEvent(event: UserSentMessageEvent, context: Context): Promise<string> {
  return _.toString('hello ') + event.message.body;
}`;

async function apiError(p: Promise<unknown>): Promise<{ status: number; data: any }> {
  try {
    await p;
  } catch (e: any) {
    if (e?.response) return { status: e.response.status, data: e.response.data };
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe.each([
  ['in-process bus', false],
  ['Kafka', true],
])('registry (SDK conformance, %s)', (_bus, kafka) => {
  let server: TestServer;
  let app: TestApplication;
  let other: TestApplication;
  let ck: ChatKitty;
  let ckOther: ChatKitty;
  let db: DataSource;
  const changes: FunctionChangedPayload[] = [];
  const runtimeChanges: RuntimeChangedPayload[] = [];
  let directory: FunctionDirectory;
  let runtimes: RuntimeDirectory;

  beforeAll(async () => {
    server = await startTestServer({
      kafka,
      definition: {
        name: 'registry-e2e',
        modules: [ChatModule, RegistryModule],
        migrations: [...CHAT_MIGRATIONS, ...REGISTRY_MIGRATIONS],
      },
    });
    db = server.app.get(DataSource);
    await server.bus.subscribe('registry.function.changed.v1', 'e2e-function-changes', async (env) => {
      changes.push(env.payload);
    });
    await server.bus.subscribe('registry.runtime.changed.v1', 'e2e-runtime-changes', async (env) => {
      runtimeChanges.push(env.payload);
    });
    directory = new FunctionDirectory(db, server.bus);
    await directory.start();
    runtimes = new RuntimeDirectory(db, server.bus, server.secrets.encryptionKey);
    await runtimes.start();
    app = await server.createApplication('registry-a');
    other = await server.createApplication('registry-b');
    ck = new ChatKitty(server.sdkConfig(app));
    ckOther = new ChatKitty(server.sdkConfig(other));
  });

  afterAll(async () => {
    await directory?.stop();
    await runtimes?.stop();
    await server?.close();
  });

  it('lists one disabled function per trigger type, with the runtime', async () => {
    const { data } = await ck.RuntimeApi.listNodejsRuntimeFunctions(0, 25);
    const fns = data._embedded!.functions!;
    expect(fns.map((f) => f.type).sort()).toEqual(
      [
        'system.triggered.event',
        'user.attempted.send_message',
        'user.attempted.start_session',
        'user.read.message',
        'user.received.channel_invite',
        'user.received.notification',
        'user.sent.message',
        'user.started.chat_session',
        'user.triggered.event',
      ].sort(),
    );
    for (const f of fns) {
      expect(f).toMatchObject({ enabled: false, current_version_number: 0, runtime: { type: 'NODEJS' } });
      expect(typeof f.name).toBe('string');
    }
    expect(data.page).toMatchObject({ number: 0, size: 25, total_elements: 9, total_pages: 1 });
  });

  it('returns the runtime with the chatkitty default dependency', async () => {
    const { data } = await ck.RuntimeApi.retrieveNodejsRuntime();
    expect(data).toMatchObject({
      type: 'NODEJS',
      dependencies: [{ name: 'chatkitty', version: '2.106.8', default_dependency: true }],
      environment_variables: {},
    });
    expect(typeof data.version).toBe('string');
  });

  it('creates versions (TypeScript compiled for the runner), retrieves them and the current one', async () => {
    const fns = (await ck.RuntimeApi.listNodejsRuntimeFunctions()).data._embedded!.functions!;
    const sent = fns.find((f) => f.type === 'user.sent.message')!;
    const v1 = (await ck.FunctionsApi.createFunctionVersion(sent.id, { handler_script: HANDLER })).data;
    expect(v1).toMatchObject({ version_number: 1, handler_script: HANDLER });
    const v2 = (await ck.FunctionsApi.createFunctionVersion(sent.id, { handler_script: HANDLER.replace('hello', 'hi') })).data;
    expect(v2.version_number).toBe(2);

    const fn = (await ck.FunctionsApi.retrieveFunction(sent.id)).data;
    expect(fn).toMatchObject({ id: sent.id, type: 'user.sent.message', enabled: true, current_version_number: 2 });
    expect((await ck.FunctionsApi.retrieveFunctionCurrentVersion(sent.id)).data).toMatchObject({ id: v2.id, version_number: 2 });
    expect((await ck.FunctionVersionsApi.retrieveFunctionVersion(v1.id)).data).toMatchObject({ id: v1.id, version_number: 1 });
    const versions = (await ck.FunctionsApi.listFunctionVersions(sent.id)).data;
    expect(versions._embedded!.versions!.map((v) => v.version_number)).toEqual([2, 1]);

    // The directory sees the deployed, compiled script (no types, import → require).
    await waitFor(() => directory.get(app.id, 'user.sent.message')?.currentVersionNumber === 2, { what: 'directory update' });
    const snap = directory.findRunnable(app.id, 'user.sent.message')!;
    expect(snap.handlerScript).toContain('require("lodash")');
    expect(snap.handlerScript).not.toContain('UserSentMessageEvent');
    expect(directory.getById(sent.id)?.currentVersionId).toBe(v2.id);
  });

  it('answers 400 naming the problem for bad scripts, dependencies and variables', async () => {
    const fn = (await ck.RuntimeApi.listNodejsRuntimeFunctions()).data._embedded!.functions!.find((f) => f.type === 'user.read.message')!;
    let e = await apiError(ck.FunctionsApi.createFunctionVersion(fn.id, { handler_script: 'async function handleEvent(e) {\n  return {a: 1;\n}' }));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/line 2, column \d+/);
    expect(e.data.properties).toMatchObject({ field: 'handler_script', line: 2 });

    e = await apiError(ck.FunctionsApi.createFunctionVersion(fn.id, { handler_script: 'function notIt() {}' }));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/handleEvent/);

    e = await apiError(ck.FunctionsApi.createFunctionVersion(fn.id, {} as any));
    expect(e).toMatchObject({ status: 400, data: { error: 'InvalidRequestError' } });
    expect(e.data.message).toMatch(/handler_script/);

    e = await apiError(ck.RuntimeApi.updateNodejsRuntimeDependencies([{ name: 'Bad Name', version: '1.0.0', default_dependency: false }]));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/^0\.name: invalid npm package name/);

    e = await apiError(ck.RuntimeApi.updateNodejsRuntimeDependencies([{ name: 'lodash', version: 'file:../../etc', default_dependency: false }]));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/0\.version/);

    e = await apiError(ck.RuntimeApi.updateNodejsRuntimeDependencies([{ name: 'chatkitty', version: '1.0.0', default_dependency: true }]));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/default dependency/);

    const many = Array.from({ length: 51 }, (_, i) => ({ name: `p${i}`, version: '1.0.0', default_dependency: false }));
    expect((await apiError(ck.RuntimeApi.updateNodejsRuntimeDependencies(many))).status).toBe(400);

    e = await apiError(ck.RuntimeApi.updateNodejsRuntimeEnvironmentVariables({ CHATKITTY_CLIENT_SECRET: 'x' }));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/CHATKITTY_CLIENT_SECRET: .*reserved/);
    e = await apiError(ck.RuntimeApi.updateNodejsRuntimeEnvironmentVariables({ '1X': 'x' }));
    expect(e.status).toBe(400);
    e = await apiError(ck.RuntimeApi.updateNodejsRuntimeEnvironmentVariables({ BIG: 'x'.repeat(4097) }));
    expect(e.status).toBe(400);
    e = await apiError(ck.RuntimeApi.updateNodejsRuntimeInitializationScript({ script: 'const = ;' }));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/line 1/);

    e = await apiError(ck.RuntimeApi.createNodejsRuntimeFunction({ type: 'user.did.nothing', name: 'x', initialize_asynchronously: false }));
    expect(e.status).toBe(400);
    expect(e.data.message).toMatch(/type/);
  });

  it('updates dependencies, environment variables and the initialization script', async () => {
    let rt = (await ck.RuntimeApi.updateNodejsRuntimeDependencies([{ name: 'lodash', version: '^4.17.21', default_dependency: false }])).data;
    expect(rt.dependencies).toEqual([
      { default_dependency: true, name: 'chatkitty', version: '2.106.8' },
      { default_dependency: false, name: 'lodash', version: '^4.17.21' },
    ]);
    rt = (await ck.RuntimeApi.updateNodejsRuntimeEnvironmentVariables({ API_KEY: 's3cret', REGION: 'eu' })).data;
    expect(rt.environment_variables).toEqual({ API_KEY: 's3cret', REGION: 'eu' });
    rt = (await ck.RuntimeApi.updateNodejsRuntimeInitializationScript({ script: 'const x: number = 1;' })).data;
    expect(rt.initialization_script).toEqual({ script: 'const x: number = 1;' });
    expect((await ck.RuntimeApi.retrieveNodejsRuntime()).data).toMatchObject({
      environment_variables: { API_KEY: 's3cret', REGION: 'eu' },
      initialization_script: { script: 'const x: number = 1;' },
    });

    // Values are encrypted at rest and never on the bus; the directory decrypts them on demand.
    const raw: { value_encrypted: string }[] = await db.query('SELECT value_encrypted FROM runtime_environment_variables');
    expect(raw.every((r) => !r.value_encrypted.includes('s3cret'))).toBe(true);
    await expectEventually(() => expect(runtimes.get(app.id)?.initializationScript).toBe('const x: number = 1;'));
    expect(await runtimes.environmentOf(app.id)).toEqual({ API_KEY: 's3cret', REGION: 'eu' });
    expect(JSON.stringify(runtimeChanges)).not.toContain('s3cret');
    const types = runtimeChanges.filter((c) => c.runtime.applicationId === app.id).map((c) => c.type);
    expect(types).toEqual(['runtime.created', 'runtime.dependencies-changed', 'runtime.environment-changed', 'runtime.init-script-changed']);
  });

  it('creates (defines and enables) a function through the RuntimeApi', async () => {
    const { data } = await ck.RuntimeApi.createNodejsRuntimeFunction({
      type: 'user.triggered.event',
      name: 'Custom events',
      description: 'handles custom events',
      initialize_asynchronously: false,
    });
    expect(data).toMatchObject({ type: 'user.triggered.event', name: 'Custom events', description: 'handles custom events', enabled: true });
  });

  it('keeps applications apart', async () => {
    const mine = (await ck.RuntimeApi.listNodejsRuntimeFunctions()).data._embedded!.functions!;
    const sent = mine.find((f) => f.type === 'user.sent.message')!;
    expect((await apiError(ckOther.FunctionsApi.retrieveFunction(sent.id))).status).toBe(404);
    expect((await apiError(ckOther.FunctionsApi.createFunctionVersion(sent.id, { handler_script: HANDLER }))).status).toBe(404);
    expect((await apiError(ckOther.FunctionsApi.listFunctionVersions(sent.id))).status).toBe(404);
    expect((await apiError(ckOther.FunctionsApi.listFunctionInvocations(sent.id))).status).toBe(404);
    const current = (await ck.FunctionsApi.retrieveFunctionCurrentVersion(sent.id)).data;
    expect((await apiError(ckOther.FunctionVersionsApi.retrieveFunctionVersion(current.id))).status).toBe(404);
    const theirs = (await ckOther.RuntimeApi.listNodejsRuntimeFunctions()).data._embedded!.functions!;
    expect(theirs.every((f) => !mine.some((m) => m.id === f.id))).toBe(true);
    expect((await ckOther.RuntimeApi.retrieveNodejsRuntime()).data.environment_variables).toEqual({});
  });

  it('enables, disables, rolls back and changes settings (extensions)', async () => {
    const fn = (await ck.RuntimeApi.listNodejsRuntimeFunctions()).data._embedded!.functions!.find((f) => f.type === 'user.sent.message')!;
    const call = async (method: string, path: string, body?: unknown) => {
      const token = (await (ck.FunctionsApi as any).configuration.accessToken?.()) ?? undefined;
      const res = await fetch(`${server.url}/v1${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, data: await res.json() };
    };
    expect((await call('POST', `/functions/${fn.id}/disable`)).data).toMatchObject({ enabled: false });
    await waitFor(() => directory.getById(fn.id)?.enabled === false, { what: 'disabled in directory' });
    expect(directory.findRunnable(app.id, 'user.sent.message')).toBeUndefined();
    expect((await call('POST', `/functions/${fn.id}/enable`)).data).toMatchObject({ enabled: true });

    const rb = await call('POST', `/functions/${fn.id}/rollback`, { version_number: 1 });
    expect(rb.status).toBe(201);
    expect(rb.data).toMatchObject({ version_number: 3, handler_script: HANDLER, rolled_back_from: 1 });
    expect((await call('POST', `/functions/${fn.id}/rollback`, { version_number: 42 })).status).toBe(404);
    expect((await call('POST', `/functions/${fn.id}/rollback`, { version_number: 3 })).status).toBe(409);
    expect((await call('POST', `/functions/${fn.id}/rollback`, {})).status).toBe(400);

    const st = await call('PATCH', `/functions/${fn.id}/settings`, { timeout_ms: 2500, failure_policy: 'allow' });
    expect(st.data).toMatchObject({ timeout_ms: 2500, failure_policy: 'allow' });
    expect((await call('PATCH', `/functions/${fn.id}/settings`, { timeout_ms: 1 })).status).toBe(400);
    expect((await call('PATCH', `/functions/${fn.id}/settings`, { failure_policy: 'maybe' })).status).toBe(400);
    await waitFor(() => directory.getById(fn.id)?.timeoutMs === 2500, { what: 'settings in directory' });
    expect(directory.getById(fn.id)).toMatchObject({ failurePolicy: 'allow', currentVersionNumber: 3 });

    // Test run: no executor → 503; an executor answering → its verdict, with the compiled draft script.
    const none = await call('POST', `/functions/${fn.id}/test`, { event: { message: { body: 'x' } }, script: HANDLER });
    expect([503, 504]).toContain(none.status);
    const seen: any[] = [];
    const responder = await server.bus.respond('executor.execution.requested.v1', 'e2e-executor', async (env) => {
      seen.push(env.payload);
      return { outcome: 'ran', result: 'ok', logs: 'log line', durationMs: 3 };
    });
    try {
      const ran = await call('POST', `/functions/${fn.id}/test`, { event: { message: { body: 'x' } }, script: HANDLER });
      expect(ran.status).toBe(200);
      expect(ran.data).toMatchObject({ outcome: 'ran', result: 'ok', logs: 'log line', duration_ms: 3, draft: true });
      expect(seen[0]).toMatchObject({ applicationId: app.id, functionId: fn.id, triggerType: 'user.sent.message', deadlineMs: 2500 });
      expect(seen[0].draftScript).toContain('require("lodash")');
      const bad = await call('POST', `/functions/${fn.id}/test`, { event: {}, script: 'function (' });
      expect(bad.status).toBe(400);
    } finally {
      await responder.close();
    }
  });

  it('records invocations from the executor, newest first, filterable, and redrives dead letters', async () => {
    const fn = (await ck.RuntimeApi.listNodejsRuntimeFunctions()).data._embedded!.functions!.find((f) => f.type === 'user.sent.message')!;
    const base = {
      applicationId: app.id,
      functionId: fn.id,
      triggerType: 'user.sent.message',
      args: { message: { body: 'hi' } },
      durationMs: 12,
      startedAt: new Date(Date.now() - 1000).toISOString(),
      finishedAt: new Date().toISOString(),
      deadLettered: false,
    };
    await server.bus.publish('executor.invocation.completed.v1', {
      ...base, invocationId: 'inv-1', versionNumber: 1, status: 'SUCCEEDED', result: { payload: 'hello hi' }, logs: 'a', attempt: 1,
    });
    const completed2 = {
      ...base, invocationId: 'inv-2', versionNumber: 2, status: 'FAILED' as const, error: { name: 'Error', message: 'boom' }, logs: 'x'.repeat(100_000),
      attempt: 3, deadLettered: true, startedAt: new Date().toISOString(),
    };
    await server.bus.publish('executor.invocation.completed.v1', completed2);
    await server.bus.publish('executor.invocation.completed.v1', completed2); // redelivery: idempotent
    const request = {
      invocationId: 'inv-2', applicationId: app.id, functionId: fn.id, triggerType: 'user.sent.message', versionNumber: 2,
      sourceEventId: 'evt-9', channelId: 4, depth: 0, attempt: 3, timeoutMs: 1000, event: { message: { body: 'hi' } },
    };
    await server.bus.publish('executor.invocation.dead-lettered.v1', { request, error: { name: 'Error', message: 'boom' } });

    await expectEventually(async () => {
      const page = (await ck.FunctionsApi.listFunctionInvocations(fn.id)).data;
      expect(page._embedded!.invocations!.map((i: any) => [i.invocation_id, i.dead_lettered])).toEqual([
        ['inv-2', true],
        ['inv-1', false],
      ]);
    });
    const page = (await ck.FunctionsApi.listFunctionInvocations(fn.id)).data;
    const [i2, i1] = page._embedded!.invocations! as any[];
    expect(i1).toMatchObject({ status: 'SUCCEEDED', version_number: 1, result: { payload: 'hello hi' }, args: { message: { body: 'hi' } }, duration_ms: 12 });
    expect(i2).toMatchObject({ status: 'FAILED', error: { name: 'Error', message: 'boom' }, attempt: 3 });
    expect(Buffer.byteLength(i2.logs)).toBeLessThanOrEqual(65_536);
    expect(typeof i1.id).toBe('number');

    const token = await (ck.FunctionsApi as any).configuration.accessToken();
    const get = async (q: string) =>
      (await (await fetch(`${server.url}/v1/functions/${fn.id}/invocations${q}`, { headers: { authorization: `Bearer ${token}` } })).json()) as any;
    expect((await get('?status=SUCCEEDED'))._embedded.invocations.map((i: any) => i.invocation_id)).toEqual(['inv-1']);
    expect((await get('?version_number=2'))._embedded.invocations.map((i: any) => i.invocation_id)).toEqual(['inv-2']);

    const requested: any[] = [];
    await server.bus.subscribe('router.invocation.requested.v1', 'e2e-redrive', async (env) => {
      requested.push(env.payload);
    });
    const redrive = (id: string) =>
      fetch(`${server.url}/v1/functions/${fn.id}/invocations/${id}/redrive`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const res = await redrive('inv-2');
    expect(res.status).toBe(202);
    const body = (await res.json()) as any;
    await waitFor(() => requested.length === 1, { what: 'redriven request' });
    expect(requested[0]).toMatchObject({ ...request, sourceEventId: expect.stringContaining('evt-9'), invocationId: body.invocation_id, attempt: 1 });
    expect((await redrive('inv-2')).status).toBe(409);
    expect((await redrive('inv-1')).status).toBe(409);
    expect((await redrive('nope')).status).toBe(404);
  });

  it('shows a requested invocation as RUNNING until its result arrives', async () => {
    const fn = (await ck.RuntimeApi.listNodejsRuntimeFunctions()).data._embedded!.functions!.find((f) => f.type === 'user.sent.message')!;
    const invocationId = `inv-running-${Date.now()}`;
    await server.bus.publish('router.invocation.requested.v1', {
      invocationId, applicationId: app.id, functionId: fn.id, triggerType: 'user.sent.message', versionNumber: 1,
      sourceEventId: `evt-${invocationId}`, channelId: 7, depth: 0, attempt: 1, timeoutMs: 1000, event: { message: { body: 'queued' } },
    });
    const find = async () =>
      ((await ck.FunctionsApi.listFunctionInvocations(fn.id)).data._embedded!.invocations as any[]).find((i) => i.invocation_id === invocationId);
    await expectEventually(async () => expect(await find()).toMatchObject({ status: 'RUNNING', args: { message: { body: 'queued' } } }));
    await server.bus.publish('executor.invocation.completed.v1', {
      invocationId, applicationId: app.id, functionId: fn.id, triggerType: 'user.sent.message', versionNumber: 1,
      status: 'SUCCEEDED', args: { message: { body: 'queued' } }, result: { payload: 'done' }, logs: '', durationMs: 3, attempt: 1,
      startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), deadLettered: false,
    });
    await expectEventually(async () => expect(await find()).toMatchObject({ status: 'SUCCEEDED', result: { payload: 'done' } }));
  });

  it('records build statuses from the builder on the runtime', async () => {
    const rt = (await ck.RuntimeApi.retrieveNodejsRuntime()).data as any;
    await server.bus.publish('builder.build.status.v1', {
      applicationId: app.id, buildId: 'b-1', runtimeRevision: rt.revision, contentHash: 'h', driver: 'process', status: 'failed', error: 'npm ERR! 404',
    });
    await expectEventually(async () => {
      expect(((await ck.RuntimeApi.retrieveNodejsRuntime()).data as any).build).toMatchObject({ id: 'b-1', status: 'failed', error: 'npm ERR! 404' });
    });
  });

  it('publishes every function change once, in stream order per function', async () => {
    const streams: { stream_id: string; version: number; type: string }[] = await db.query(
      `SELECT stream_id, version, type FROM events WHERE stream_id LIKE 'function-%' ORDER BY stream_id, version`,
    );
    await waitFor(() => changes.length >= streams.length, { what: 'all function changes on the bus' });
    expect(changes.length).toBe(streams.length);
    const byFn = new Map<number, FunctionChangedPayload[]>();
    for (const c of changes) byFn.set(c.function.id, [...(byFn.get(c.function.id) ?? []), c]);
    for (const [id, list] of byFn) {
      const expected = streams.filter((s) => s.stream_id === `function-${id}`);
      expect(list.map((c) => [c.version, c.type])).toEqual(expected.map((s) => [s.version, s.type]));
    }
  });

  it('serialises concurrent first access and concurrent deploys', async () => {
    const third = await server.createApplication('registry-c');
    const ck3 = new ChatKitty(server.sdkConfig(third));
    const lists = await Promise.all([1, 2, 3].map(() => ck3.RuntimeApi.listNodejsRuntimeFunctions()));
    expect(new Set(lists.map((l) => l.data.page!.total_elements))).toEqual(new Set([9]));
    const fn = lists[0].data._embedded!.functions!.find((f) => f.type === 'user.received.notification')!;
    const versions = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ck3.FunctionsApi.createFunctionVersion(fn.id, { handler_script: `async function handleEvent() { return ${i}; }` })),
    );
    expect(versions.map((v) => v.data.version_number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await ck3.FunctionsApi.retrieveFunction(fn.id)).data.current_version_number).toBe(6);
  });

  it('rejects unauthenticated calls and bad ids', async () => {
    expect((await fetch(`${server.url}/v1/runtimes/nodejs`)).status).toBe(401);
    const token = await (ck.FunctionsApi as any).configuration.accessToken();
    const res = await fetch(`${server.url}/v1/functions/abc`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
  });
});
