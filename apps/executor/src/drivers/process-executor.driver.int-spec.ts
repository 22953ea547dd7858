import { spawn } from 'node:child_process';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { runnerScriptPath } from '../../../runner/runner-script';
import type { RunRequest } from '../../../runner/runner.protocol';
import { RunnerHandle, RuntimeSpec } from './executor-driver';
import { ProcessExecutorDriver } from './process-executor.driver';

/** The repository's own node_modules holds chatkitty: a stand-in for a built base runtime. */
const RUNTIME_DIR = resolve(dirname(require.resolve('chatkitty/package.json')), '..', '..');

describe('ProcessExecutorDriver + runner', () => {
  const driver = new ProcessExecutorDriver();
  let chat: Server;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let runner: RunnerHandle;
  let spec: RuntimeSpec;
  let n = 0;

  const run = (script: string, extra: Partial<RunRequest> = {}, h = runner) =>
    h.run({
      invocationId: `inv-${++n}`,
      versionKey: extra.versionKey ?? `fn:1:v${n}`,
      script,
      event: { hello: 'world' },
      depth: 0,
      timeoutMs: 2_000,
      accessToken: 'app-token',
      accessTokenExpiresAt: Date.now() + 600_000,
      ...extra,
    });

  beforeAll(async () => {
    chat = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 7, name: 'general' }));
    });
    await new Promise<void>((r) => chat.listen(0, '127.0.0.1', r));
    spec = {
      applicationId: 42,
      key: 'test',
      directory: RUNTIME_DIR,
      env: { GREETING: 'hi', SECRET_THING: 's3' },
      chatBaseUrl: `http://127.0.0.1:${(chat.address() as AddressInfo).port}/v1`,
      limits: { memoryMb: 64, cpus: 1, pids: 32 },
    };
    runner = await driver.start(spec);
    const init = await runner.init({ initScript: 'globalThis.initCount = (globalThis.initCount || 0) + 1; console.log("init ran")' });
    expect(init).toMatchObject({ status: 'SUCCEEDED', logs: 'init ran\n' });
  });

  afterAll(async () => {
    await runner?.stop();
    chat?.close();
  });

  it('runs handleEvent, captures its console and returns its result', async () => {
    const reply = await run(`async function handleEvent(event, context) { console.log('got', event.hello); console.warn('careful'); return { echo: event.hello, init: globalThis.initCount }; }`);
    expect(reply).toMatchObject({ status: 'SUCCEEDED', result: { echo: 'world', init: 1 }, logs: 'got world\n[warn] careful\n' });
  });

  it('keeps module state per version and loads a new version without restarting', async () => {
    const v1 = 'const calls = []; async function handleEvent() { calls.push("x"); return calls.length; }';
    expect((await run(v1, { versionKey: 'fn:2:v1' })).result).toBe(1);
    expect((await run(v1, { versionKey: 'fn:2:v1' })).result).toBe(2);
    const v2 = 'async function handleEvent() { return "v2"; }';
    expect((await run(v2, { versionKey: 'fn:2:v2' })).result).toBe('v2');
    expect((await run(v1, { versionKey: 'fn:2:v1' })).result).toBe(3);
    expect(runner.alive).toBe(true);
  });

  it('gives the runtime env and CHATKITTY_* but none of the platform variables', async () => {
    const reply = await run('async function handleEvent() { return Object.keys(process.env).sort().map(k => k + "=" + (k.includes("SECRET") && k.startsWith("CHATKITTY") ? "*" : process.env[k])); }');
    const env = reply.result as string[];
    expect(env).toEqual(expect.arrayContaining(['GREETING=hi', 'SECRET_THING=s3', 'CHATKITTY_APPLICATION_ID=42', 'CHATKITTY_CLIENT_ID=chatfn-runner-42', 'CHATKITTY_CLIENT_SECRET=*', `CHATKITTY_CHAT_SERVICE_BASE_URL=${spec.chatBaseUrl}`]));
    expect(env.filter((e) => e.startsWith('CHATFN_') || e.startsWith('DATABASE_URL') || e.startsWith('KAFKA'))).toEqual([]);
  });

  it('authenticates context APIs and marks every SDK request with the event depth', async () => {
    seen.length = 0;
    const reply = await run(
      `async function handleEvent(event, context) { const ch = await context.getChannelApi().retrieveChannel(7); const { ChatKitty } = require('chatkitty');
        const own = new ChatKitty({ clientId: process.env.CHATKITTY_CLIENT_ID, clientSecret: process.env.CHATKITTY_CLIENT_SECRET, basePath: process.env.CHATKITTY_CHAT_SERVICE_BASE_URL, authorizationBasePath: process.env.CHATKITTY_AUTHORIZATION_SERVICE_BASE_URL + '/oauth/token' });
        await own.UsersApi.retrieveUser(3); return ch.data.name; }`,
      { depth: 2 },
    );
    expect(reply).toMatchObject({ status: 'SUCCEEDED', result: 'general' });
    expect(seen.map((s) => s.url)).toEqual(['/v1/channels/7', '/v1/users/3']);
    for (const s of seen) {
      expect(s.headers.authorization).toBe('Bearer app-token');
      expect(s.headers['x-chatfn-event-depth']).toBe('3');
    }
  });

  it('keeps the logs of concurrent invocations apart', async () => {
    const script = 'async function handleEvent(e) { for (let i = 0; i < 5; i++) { console.log(e.tag, i); await new Promise(r => setTimeout(r, 5)); } return e.tag; }';
    const [a, b] = await Promise.all([
      run(script, { versionKey: 'fn:3:v1', event: { tag: 'a' } }),
      run(script, { versionKey: 'fn:3:v1', event: { tag: 'b' } }),
    ]);
    expect(a.logs).toBe('a 0\na 1\na 2\na 3\na 4\n');
    expect(b.logs).toBe('b 0\nb 1\nb 2\nb 3\nb 4\n');
  });

  it('reports a throw as {name, message, stack} and a missing handleEvent clearly', async () => {
    const thrown = await run('async function handleEvent() { throw new TypeError("nope"); }');
    expect(thrown).toMatchObject({ status: 'FAILED', error: { name: 'TypeError', message: 'nope' } });
    expect(thrown.error?.stack).toContain('TypeError: nope');
    const missing = await run('const x = 1;');
    expect(missing).toMatchObject({ status: 'FAILED', error: { name: 'InvalidHandlerError' } });
  });

  it('times out a function that never settles, and the runner stays', async () => {
    const reply = await run('async function handleEvent() { await new Promise(() => {}); }', { timeoutMs: 200 });
    expect(reply).toMatchObject({ status: 'FAILED', timedOut: true, error: { name: 'TimeoutError' } });
    expect(runner.alive).toBe(true);
  });

  it('contains process.exit and unhandled rejections without losing the runner', async () => {
    const exit = await run('async function handleEvent() { process.exit(3); }');
    expect(exit).toMatchObject({ status: 'FAILED', error: { message: expect.stringContaining('process.exit(3) is not allowed') } });
    const rejection = await run('async function handleEvent() { Promise.reject(new Error("lost")); await new Promise(r => setTimeout(r, 500)); return "late"; }');
    expect(rejection).toMatchObject({ status: 'FAILED', error: { message: 'Unhandled promise rejection: lost' } });
    expect(runner.alive).toBe(true);
    expect((await run('async function handleEvent() { return "still here"; }')).result).toBe('still here');
  });

  it('denies file system access outside the runtime and child processes', async () => {
    const reply = await run(`async function handleEvent() { const out = [];
      try { require('fs').readFileSync('/etc/passwd'); out.push('read'); } catch (e) { out.push(e.code); }
      try { require('child_process').execSync('id'); out.push('spawned'); } catch (e) { out.push(e.code); }
      return out; }`);
    expect(reply.result).toEqual(['ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED']);
  });

  it('kills and reports a runner stuck in an infinite loop; other runners are unaffected', async () => {
    const other = await driver.start({ ...spec, key: 'other' });
    try {
      const stuck = await driver.start({ ...spec, key: 'stuck' });
      const reply = await run('async function handleEvent() { for (;;) {} }', { timeoutMs: 300 }, stuck);
      expect(reply).toMatchObject({ status: 'FAILED', timedOut: true, error: { name: 'TimeoutError' } });
      await stuck.exited;
      expect(stuck.alive).toBe(false);
      expect((await run('async function handleEvent() { return 1; }', {}, other)).result).toBe(1);
    } finally {
      await other.stop();
    }
  });

  it('reports a memory bomb as out of memory', async () => {
    const bomb = await driver.start({ ...spec, key: 'bomb' });
    const reply = await run('async function handleEvent() { const a = []; for (;;) a.push(new Array(1e5).fill(Math.random())); }', { timeoutMs: 10_000 }, bomb);
    expect(reply).toMatchObject({ status: 'FAILED', error: { name: 'RunnerCrashedError', message: expect.stringContaining('out of memory') } });
    expect(bomb.alive).toBe(false);
  });

  it('answers many concurrent runs of one version, each with its own event, and a version that fails to load fails every time', async () => {
    const script = 'let n = 0; async function handleEvent(e) { n++; return { i: e.i, n }; }';
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => run(script, { versionKey: 'fn:9:v1', event: { i } })),
    );
    expect(replies.map((r) => (r.result as { i: number }).i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(Math.max(...replies.map((r) => (r.result as { n: number }).n))).toBe(200);
    // Later runs of a loaded version travel without the script and still find it.
    expect((await run(script, { versionKey: 'fn:9:v1', event: { i: -1 } })).result).toEqual({ i: -1, n: 201 });
    for (let i = 0; i < 2; i++) {
      expect(await run('const notAHandler = 1;', { versionKey: 'fn:10:v1' })).toMatchObject({ status: 'FAILED', error: { name: 'InvalidHandlerError' } });
    }
    expect(await run('throw new Error("at load");', { versionKey: 'fn:11:v1' })).toMatchObject({ status: 'FAILED', error: { message: 'at load' } });
    expect(await run('throw new Error("at load");', { versionKey: 'fn:11:v1' })).toMatchObject({ status: 'FAILED', error: { message: 'at load' } });
  });

  it('ends a runner whose host went away (its channel closed)', async () => {
    const child = spawn(process.execPath, [runnerScriptPath()], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { CHATFN_RUNNER_TOKEN: 'x', CHATFN_RUNNER_CHANNEL: '3', CHATFN_RUNTIME_DIR: RUNTIME_DIR },
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((r) => child.stdout!.once('data', () => r())); // its ready line
    // A run over the channel works...
    const channel = child.stdio[3] as unknown as Duplex;
    const reply = new Promise<string>((r) => channel.once('data', (c: Buffer) => r(c.toString())));
    channel.write(`${JSON.stringify({ id: 1, op: 'run', body: { invocationId: 'o', versionKey: 'v', script: 'async function handleEvent() { return 5; }', event: {}, depth: 0, timeoutMs: 1000 } })}\n`);
    expect(JSON.parse(await reply)).toMatchObject({ id: 1, reply: { status: 'SUCCEEDED', result: 5 } });
    // ...and closing it (what the host's death does) ends the runner.
    channel.destroy();
    expect(await exited).toBe(0);
  });
});
