import { loadConfig } from '@chatfn/config';
import { startService } from '@chatfn/platform';
import { freePort, TestServer, waitFor } from '@chatfn/testing';
import { EXECUTOR_MIGRATIONS } from '../../apps/executor/src/executor.migrations';
import { ExecutorModule } from '../../apps/executor/src/executor.module';
import { RunnerPool } from '../../apps/executor/src/runners/runner-pool';
import { alive, AppClient, Json, startExecutionServer } from './execution.harness';

jest.setTimeout(180_000);

/**
 * Runner lifecycle and containment, end to end through the chatkitty SDK on the embedded server (process driver):
 * pre-warming at start-up, replacement on a runtime change, idle retirement, hostile functions, a runner killed
 * mid-batch, and `require` confined to the runtime.
 */
describe('runners (embedded, process driver)', () => {
  let server: TestServer;
  let a: AppClient;
  let b: AppClient;
  let pool: RunnerPool;

  beforeAll(async () => {
    server = await startExecutionServer({ env: { CHATFN_RUNNER_IDLE_MS: '2000' } });
    pool = server.app.select(ExecutorModule).get(RunnerPool, { strict: true });
    [a, b] = await Promise.all([AppClient.create(server), AppClient.create(server)]);
  });
  afterAll(async () => {
    await server?.close();
  });

  const runnerOf = (app: AppClient) => pool.warm().find((w) => w.applicationId === app.app.id);
  const bodyIs = (body: string) => (i: Json) => i.args?.message?.body === body;
  /** Sends a message in a new channel and waits for its invocation to finish with `status`. */
  const trigger = async (app: AppClient, fnId: number, body: string, status = 'SUCCEEDED', timeoutMs = 30_000) => {
    await app.send(await app.newChannel(), body);
    return app.invocation(fnId, (i) => bodyIs(body)(i) && i.status === status, `${body} → ${status}`, timeoutMs);
  };

  it('replaces the runner when the runtime environment changes, letting the in-flight invocation finish on the old one', async () => {
    const fn = await a.deploy(
      'user.sent.message',
      `async function handleEvent(event) {
         if (event.message.body === 'slow') await new Promise((r) => setTimeout(r, 1500));
         return { greeting: process.env.GREETING, pid: process.pid };
       }`,
    );
    await a.setEnv({ GREETING: 'one' });
    await a.send(await a.newChannel(), 'slow');
    await waitFor(() => (runnerOf(a)?.inFlight ?? 0) > 0, { what: 'the slow invocation in flight' });
    await a.setEnv({ GREETING: 'two' });
    const fast = await trigger(a, fn.id, 'fast');
    const slow = await a.invocation(fn.id, (i) => bodyIs('slow')(i) && i.status === 'SUCCEEDED', 'the slow invocation');
    expect(slow.result.payload.greeting).toBe('one');
    expect(fast.result.payload.greeting).toBe('two');
    expect(fast.result.payload.pid).not.toBe(slow.result.payload.pid);
    await waitFor(() => !alive(slow.result.payload.pid), { what: 'the old runner to stop' });
  });

  it('retires an idle runner and starts a new one on the next event', async () => {
    const fn = await b.deploy('user.sent.message', `async function handleEvent(event) { return { pid: process.pid }; }`);
    const first = await trigger(b, fn.id, 'before idle');
    await waitFor(() => !runnerOf(b), { timeoutMs: 15_000, what: 'the idle runner to retire' });
    await waitFor(() => !alive(first.result.payload.pid), { what: 'the retired runner process to exit' });
    const next = await trigger(b, fn.id, 'after idle');
    expect(next.result.payload.pid).not.toBe(first.result.payload.pid);
  });

  it('contains hostile functions: each fails its own invocation with a clear error, and other applications keep working', async () => {
    const fn = await a.deploy(
      'user.sent.message',
      `async function handleEvent(event) {
         const b = event.message.body;
         if (b === 'loop') { for (;;) {} }
         if (b === 'memory') { const hog = []; for (;;) hog.push(new Array(1e6).fill(Math.random())); }
         if (b === 'exit') process.exit(3);
         if (b === 'kill') process.kill(process.pid, 'SIGKILL');
         if (b === 'reject') { Promise.reject(new Error('nobody catches this')); await new Promise((r) => setTimeout(r, 1000)); }
         if (b === 'native') process.dlopen({ exports: {} }, require('path').join(__dirname, 'crash.node'));
         return { ok: b, pid: process.pid };
       }`,
    );
    expect((await a.api('PATCH', `/v1/functions/${fn.id}/settings`, { timeout_ms: 700 })).status).toBe(200);
    const other = await b.deploy('user.sent.message', `async function handleEvent(event) { return { fine: event.message.body }; }`);
    const cases: [string, RegExp, boolean][] = [
      ['loop', /TimeoutError.*timed out after 700 ms/s, true],
      ['memory', /out of memory/, true],
      ['exit', /ForbiddenError.*process\.exit\(3\) is not allowed/s, false],
      ['kill', /RunnerCrashedError.*exited unexpectedly \(signal SIGKILL\)/s, true],
      ['reject', /Unhandled promise rejection: nobody catches this/, false],
      ['native', /addon|dlopen|ERR_|denied|not allowed/i, false],
    ];
    for (const [body, error, replaced] of cases) {
      const before = (await trigger(a, fn.id, `ok before ${body}`)).result.payload.pid as number;
      const failed = await trigger(a, fn.id, body, 'FAILED', 60_000);
      expect(`${failed.error?.name}: ${failed.error?.message}`).toMatch(error);
      await trigger(b, other.id, `b after ${body}`);
      const after = (await trigger(a, fn.id, `ok after ${body}`)).result.payload.pid as number;
      if (replaced) {
        expect(after).not.toBe(before);
        expect(alive(before)).toBe(false);
      }
    }
  });

  it('loses no invocation and runs none twice when the runner is killed mid-batch', async () => {
    const fn = await a.deploy(
      'user.sent.message',
      `async function handleEvent(event) { await new Promise((r) => setTimeout(r, 300)); return { pid: process.pid }; }`,
    );
    const pid = (await trigger(a, fn.id, 'warm-up')).result.payload.pid as number;
    const channels = await Promise.all(Array.from({ length: 4 }, () => a.newChannel()));
    const bodies = Array.from({ length: 16 }, (_, i) => `batch-${i}`);
    await Promise.all(bodies.map((body, i) => a.send(channels[i % channels.length], body)));
    await waitFor(() => (runnerOf(a)?.inFlight ?? 0) >= 2, { what: 'invocations in flight' });
    process.kill(pid, 'SIGKILL');
    const all = await waitFor(
      async () => {
        const list = await a.invocations(fn.id);
        return bodies.every((body) => list.some((i) => bodyIs(body)(i) && i.status === 'SUCCEEDED')) ? list : undefined;
      },
      { timeoutMs: 60_000, what: 'every invocation to succeed' },
    );
    for (const body of bodies) expect(all.filter(bodyIs(body))).toHaveLength(1);
    const retried = all.filter((i) => bodies.some((body) => bodyIs(body)(i)) && i.attempt === 2);
    expect(retried.length).toBeGreaterThan(0); // the kill hit running invocations; they ran again, once
  });

  it('resolves require() only inside the runtime: the platform’s own packages are out of reach', async () => {
    const fn = await a.deploy(
      'user.sent.message',
      `async function handleEvent(event) {
         const tryLoad = (name) => { try { require(name); return 'loaded'; } catch (e) { return e.code || e.message; } };
         return {
           chatkitty: tryLoad('chatkitty'),
           builtin: tryLoad('node:path'),
           typeorm: tryLoad('typeorm'),
           nest: tryLoad('@nestjs/core'),
           pg: tryLoad('pg'),
           absolute: tryLoad(${JSON.stringify(require.resolve('typeorm'))}),
           relative: tryLoad('../../../../node_modules/typeorm'),
         };
       }`,
    );
    const r = (await trigger(a, fn.id, 'require')).result.payload as Record<string, string>;
    expect(r.chatkitty).toBe('loaded');
    expect(r.builtin).toBe('loaded');
    for (const k of ['typeorm', 'nest', 'pg', 'absolute', 'relative']) expect([k, r[k]]).toEqual([k, 'MODULE_NOT_FOUND']);
  });

  it('pre-warms at start-up the runner of an application with an enabled blocking function', async () => {
    await a.deploy('user.attempted.send_message', `async function handleEvent(event) { return event.message; }`);
    // A second executor on the same database starts: it warms app a's runner before any request reaches it.
    const env = server.config.env;
    const executor = await startService(
      { name: 'executor', modules: [ExecutorModule], migrations: EXECUTOR_MIGRATIONS },
      loadConfig({
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        DATABASE_URL: server.databaseUrl,
        CHATFN_DATA_DIR: env.CHATFN_DATA_DIR!,
        CHATFN_TOKEN_SECRET: env.CHATFN_TOKEN_SECRET!,
        CHATFN_ENCRYPTION_KEY: env.CHATFN_ENCRYPTION_KEY!,
        CHATFN_INSTANCE_ID: 'prewarm-test',
        LOG_LEVEL: 'error',
      }),
    );
    try {
      const pool2 = executor.app.select(ExecutorModule).get(RunnerPool, { strict: true });
      await waitFor(() => pool2.warm().some((w) => w.applicationId === a.app.id && w.id), { timeoutMs: 20_000, what: 'the pre-warmed runner' });
      expect(pool2.warm().some((w) => w.applicationId === b.app.id)).toBe(false); // b has no blocking function
    } finally {
      await executor.close();
    }
  });
});
