import { ChatKitty } from 'chatkitty';
import { FunctionDirectory, RuntimeDirectory } from '@chatfn/function-directory';
import { startTestServer, TestApplication, TestServer, waitFor } from '@chatfn/testing';
import { ExecutorModule } from '../../apps/executor/src/executor.module';
import { RunnerPool } from '../../apps/executor/src/runners/runner-pool';
import { RouterModule } from '../../apps/router/src/router.module';

/**
 * End to end through the real chatkitty SDK: functions deployed with the SDK run on the process driver when chat
 * events happen, call back into the API through `context`, and land in the invocation log.
 */
jest.setTimeout(120_000);

export function executionSuite(name: string, opts: { kafka: boolean }) {
  describe(name, () => {
    let server: TestServer;
    let app: TestApplication;
    let ck: ChatKitty;
    let token: string;

    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    /** Every FunctionDirectory that routes or runs (router's and executor's). */
    const directories = () => [RouterModule, ExecutorModule].map((m) => server.app.select(m).get(FunctionDirectory));
    /** Creates (or finds) the app's function for a trigger and deploys a version; waits until routers/executors see it. */
    const deploy = async (type: string, script: string): Promise<{ id: number; version: number }> => {
      const list = (await ck.RuntimeApi.listNodejsRuntimeFunctions(0, 100)).data as unknown as { _embedded?: { functions?: { id: number; type: string }[] } };
      let fn = list._embedded?.functions?.find((f) => f.type === type);
      if (!fn) fn = (await ck.RuntimeApi.createNodejsRuntimeFunction({ type, name: type, initialize_asynchronously: false } as never)).data as never;
      const v = (await ck.FunctionsApi.createFunctionVersion(fn!.id, { handler_script: script } as never)).data as unknown as { version_number?: number; versionNumber?: number };
      const version = (v.version_number ?? v.versionNumber)!;
      await waitFor(() => directories().every((d) => d.getById(fn!.id)?.currentVersionNumber === version && d.getById(fn!.id)?.enabled), {
        what: `function ${fn!.id} v${version} in the directory`,
      });
      return { id: fn!.id, version };
    };
    const invocations = async (fnId: number) => {
      const page = (await ck.FunctionsApi.listFunctionInvocations(fnId, 0, 100)).data as unknown as { _embedded?: Record<string, Record<string, unknown>[]> };
      return Object.values(page._embedded ?? {})[0] ?? [];
    };
    const messages = async (channelId: number): Promise<string[]> => {
      const page = (await ck.ChannelsApi.listChannelMessages(channelId, 100)).data as unknown as { _embedded?: { messages?: { body?: string }[] } };
      return (page._embedded?.messages ?? []).map((m) => m.body ?? '').reverse();
    };
    let channelId: number;
    const newChannel = async () => {
      const c = (await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: `c-${Math.random().toString(36).slice(2)}` } as never)).data as { id: number };
      await ck.ChannelsApi.addChannelMember(c.id, { username: 'alice' } as never).catch(() => undefined);
      return c.id;
    };
    const send = (cid: number, body: string) => ck.ChannelsApi.sendChannelMessage(cid, { type: 'TEXT', body, user: { username: 'alice' } } as never);

    beforeAll(async () => {
      server = await startTestServer({
        kafka: opts.kafka,
        env: { CHATFN_MAX_EVENT_DEPTH: '3', CHATFN_RETRY_BACKOFF_MS: '20', CHATFN_MAX_ATTEMPTS: '2', CHATFN_RUNNER_MEMORY_MB: '96', LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn' },
      });
      app = await server.createApplication();
      ck = new ChatKitty(server.sdkConfig(app));
      const basic = Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64');
      const t = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      token = ((await t.json()) as { access_token: string }).access_token;
      await ck.UsersApi.createUser({ name: 'alice', display_name: 'Alice', is_guest: false } as never);
      await ck.RuntimeApi.updateNodejsRuntimeEnvironmentVariables({ GREETING: 'bonjour' } as never);
      const runtimes = server.app.select(ExecutorModule).get(RuntimeDirectory);
      await waitFor(() => (runtimes.get(app.id)?.environmentRevision ?? 0) >= 1, { timeoutMs: 30_000, what: 'the runtime change' });
      channelId = await newChannel();
    });

    afterAll(async () => {
      await server?.close();
    });

    it('runs a user.sent.message function that replies through context.getChannelApi(), with env and module state', async () => {
      const fn = await deploy(
        'user.sent.message',
        `const seen: string[] = [];
         async function handleEvent(event: any, context: any) {
           seen.push(event.message.body);
           console.log('handling', event.message.body);
           await context.getChannelApi().sendChannelMessage(event.channel.id, { type: 'TEXT', body: 'echo ' + event.message.body + ' #' + seen.length + ' ' + process.env.GREETING });
           return { count: seen.length };
         }`,
      );
      await send(channelId, 'one');
      await waitFor(async () => (await messages(channelId)).includes('echo one #1 bonjour'), { timeoutMs: 30_000, what: 'the reply' });
      await send(channelId, 'two');
      await waitFor(async () => (await messages(channelId)).includes('echo two #2 bonjour'), { timeoutMs: 30_000, what: 'the second reply' });
      const invs = await waitFor(async () => {
        const all = await invocations(fn.id);
        return all.filter((i) => i.status === 'SUCCEEDED').length >= 2 ? all : undefined;
      }, { timeoutMs: 15_000, what: 'two SUCCEEDED invocations' });
      const first = invs.find((i) => JSON.stringify(i.result).includes('"count":1'));
      expect(first).toBeDefined();
      expect(JSON.stringify(first)).toContain('handling one');
    });

    it('runs a new version on the next event without restarting the runner', async () => {
      const pool = server.app.get(RunnerPool, { strict: false });
      const before = pool.started;
      await deploy('user.sent.message', `async function handleEvent(event, context) {
        await context.getChannelApi().sendChannelMessage(event.channel.id, { type: 'TEXT', body: 'v2 says ' + event.message.body }); }`);
      await send(channelId, 'three');
      await waitFor(async () => (await messages(channelId)).includes('v2 says three'), { timeoutMs: 30_000, what: 'the v2 reply' });
      expect(pool.started).toBe(before);
    });

    it('contains a hostile function: an infinite loop fails with a timeout and the next event still runs', async () => {
      const fn = await deploy('user.sent.message', `async function handleEvent(event, context) {
        if (event.message.body === 'spin') { for (;;) {} }
        await context.getChannelApi().sendChannelMessage(event.channel.id, { type: 'TEXT', body: 'alive after ' + event.message.body }); }`);
      await api('PATCH', `/v1/functions/${fn.id}/settings`, { timeout_ms: 500 });
      await waitFor(() => directories().every((d) => d.getById(fn.id)?.timeoutMs === 500), { what: 'timeout setting' });
      const cid = await newChannel();
      await send(cid, 'spin');
      await waitFor(async () => (await invocations(fn.id)).some((i) => JSON.stringify(i).includes('TimeoutError')), {
        timeoutMs: 20_000,
        what: 'a timed-out invocation',
      });
      await send(cid, 'ok');
      await waitFor(async () => (await messages(cid)).includes('alive after ok'), { timeoutMs: 30_000, what: 'the reply after the timeout' });
    });

    it('stops a function that answers every message at the depth limit', async () => {
      await deploy('user.sent.message', `async function handleEvent(event, context) {
        await context.getChannelApi().sendChannelMessage(event.channel.id, { type: 'TEXT', body: 'again', user: { username: event.user.name } }); }`);
      const cid = await newChannel();
      await send(cid, 'start');
      // depth 0 → reply (depth 1) → reply (depth 2) → reply (depth 3, not routed): 3 replies, then nothing.
      await waitFor(async () => (await messages(cid)).filter((b) => b === 'again').length === 3, { timeoutMs: 30_000, what: '3 replies' });
      const server2 = server; // the bus goes quiet: no 4th reply after the executor is idle
      const consumer = server2.app.get(require('../../apps/executor/src/invocations/invocation-request.consumer').InvocationRequestConsumer, { strict: false });
      await waitFor(() => consumer.pending === 0, { what: 'executor idle' });
      expect((await messages(cid)).filter((b) => b === 'again')).toHaveLength(3);
    });

    it('answers blocking verdicts and draft test runs by request-reply', async () => {
      await deploy('user.attempted.send_message', `async function handleEvent(event) {
        if (event.message.body.includes('forbidden')) throw new Error('no forbidden words');
        return { body: event.message.body.toUpperCase() }; }`);
      const base = { applicationId: app.id, triggerType: 'user.attempted.send_message', deadlineMs: 5_000, depth: 0 };
      const ok = await server.bus.request('executor.execution.requested.v1', { ...base, event: { channel: {}, message: { type: 'TEXT', body: 'hello' } } }, { deadlineMs: 5_000 });
      expect(ok).toMatchObject({ outcome: 'ran', result: { body: 'HELLO' } });
      const no = await server.bus.request('executor.execution.requested.v1', { ...base, event: { channel: {}, message: { type: 'TEXT', body: 'forbidden' } } }, { deadlineMs: 5_000 });
      expect(no).toMatchObject({ outcome: 'ran', error: { message: 'no forbidden words' }, timedOut: false });
      const none = await server.bus.request('executor.execution.requested.v1', { ...base, triggerType: 'user.attempted.start_session', event: {} }, { deadlineMs: 5_000 });
      expect(none.outcome).toBe('no-function');
      const draft = await server.bus.request(
        'executor.execution.requested.v1',
        { ...base, event: { x: 2 }, draftScript: 'async function handleEvent(e: { x: number }) { console.log("draft"); return e.x * 21; }' },
        { deadlineMs: 5_000 },
      );
      expect(draft).toMatchObject({ outcome: 'ran', result: 42, logs: 'draft\n' });
      const slow = await server.bus.request(
        'executor.execution.requested.v1',
        { ...base, deadlineMs: 300, event: {}, draftScript: 'async function handleEvent() { await new Promise(r => setTimeout(r, 5000)); }' },
        { deadlineMs: 1_000 },
      );
      expect(slow).toMatchObject({ outcome: 'ran', timedOut: true, error: { name: 'TimeoutError' } });
    });

    it('retries a failing function, then dead-letters it (visible in the invocation log)', async () => {
      const fn = await deploy('user.sent.message', `async function handleEvent(event) { if (String(event.message.body).toLowerCase() === 'boom') throw new RangeError('always fails'); }`);
      const cid = await newChannel();
      await send(cid, 'boom');
      const dead = await waitFor(async () => (await invocations(fn.id)).find((i) => i.dead_lettered === true && JSON.stringify(i.error).includes('always fails')), {
        timeoutMs: 20_000,
        what: 'a dead-lettered invocation',
      });
      expect(dead).toMatchObject({ status: 'FAILED', attempt: 2, error: { name: 'RangeError', message: 'always fails' } });
    });

    it('lets the send_message hook change one message and reject another (through the SDK)', async () => {
      const cid = await newChannel();
      const sent = (await send(cid, 'quiet please')).data as { body?: string };
      expect(sent.body).toBe('QUIET PLEASE');
      const err = await send(cid, 'this is forbidden').then(
        () => undefined,
        (e: { response?: { status: number; data: { message?: string } } }) => e.response,
      );
      expect(err?.status).toBeGreaterThanOrEqual(400);
      expect(err?.status).toBeLessThan(500);
      expect(err?.data.message).toContain('no forbidden words');
    });
  });
}

