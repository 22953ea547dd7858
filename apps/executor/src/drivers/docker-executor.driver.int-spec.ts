import Docker from 'dockerode';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { loadConfig } from '@chatfn/config';
import { RunnerHandle, RuntimeSpec } from './executor-driver';
import { DockerExecutorDriver } from './docker-executor.driver';

/** Needs a Docker daemon and the base image (`bash scripts/infra/docker-up.sh && npm run infra:docker:base-image`). */
describe('DockerExecutorDriver + runner (base image, mounted runner)', () => {
  const config = loadConfig({ EXECUTOR_DRIVER: 'docker' });
  const driver = new DockerExecutorDriver(config);
  const docker = new Docker();
  let chat: Server;
  const seen: IncomingHttpHeaders[] = [];
  let spec: RuntimeSpec;
  let runner: RunnerHandle;

  beforeAll(async () => {
    await docker.getImage(config.env.CHATFN_BASE_IMAGE).inspect();
    chat = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 1, name: 'app' }));
    });
    await new Promise<void>((r) => chat.listen(0, '127.0.0.1', r));
    spec = {
      applicationId: 77,
      key: 'docker-test',
      env: { GREETING: 'hallo' },
      chatBaseUrl: `http://127.0.0.1:${(chat.address() as AddressInfo).port}/v1`,
      limits: { memoryMb: 96, cpus: 0.5, pids: 32 },
    };
    runner = await driver.start(spec);
  }, 60_000);

  afterAll(async () => {
    await runner?.stop();
    chat?.close();
  });

  it('runs handlers as a non-root user on a read-only root file system, reaching the chat API on the host', async () => {
    const reply = await runner.run({
      invocationId: 'd1',
      versionKey: 'fn:1:v1',
      script: `async function handleEvent(event, context) {
        const fs = require('fs'); let rootWritable = true; try { fs.writeFileSync('/app/x', '1'); } catch { rootWritable = false; }
        fs.writeFileSync('/tmp/ok', '1');
        const app = await context.getApplicationApi().retrieveApplication();
        return { uid: process.getuid(), rootWritable, greeting: process.env.GREETING, app: app.data.name }; }`,
      event: {},
      depth: 1,
      timeoutMs: 5_000,
      accessToken: 'tok',
      accessTokenExpiresAt: Date.now() + 60_000,
    });
    expect(reply).toMatchObject({ status: 'SUCCEEDED', result: { uid: 1000, rootWritable: false, greeting: 'hallo', app: 'app' } });
    expect(seen.at(-1)?.authorization).toBe('Bearer tok');
    expect(seen.at(-1)?.['x-chatfn-event-depth']).toBe('2');
  });

  it('reports a memory bomb as out of memory and removes the container', async () => {
    const bomb = await driver.start({ ...spec, key: 'bomb' });
    const reply = await bomb.run({
      invocationId: 'd2',
      versionKey: 'fn:1:v2',
      script: 'async function handleEvent() { const a = []; for (;;) a.push(new Array(1e5).fill(Math.random())); }',
      event: {},
      depth: 0,
      timeoutMs: 20_000,
    });
    expect(reply).toMatchObject({ status: 'FAILED', error: { name: 'RunnerCrashedError', message: expect.stringContaining('out of memory') } });
    expect(bomb.alive).toBe(false);
  }, 60_000);
});
