import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from '@chatfn/testing';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'dist/apps/chatfn/main.js');

/** The README's start command on the embedded default, as a user runs it (after `npm run build`). */
describe('npm start (embedded default)', () => {
  let dataDir: string;
  let port: number;
  let pgPort: number;
  let child: ChildProcess | undefined;
  let output = '';

  const env = () => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    PORT: String(port),
    CHATFN_DATA_DIR: dataDir,
    CHATFN_EMBEDDED_PG_PORT: String(pgPort),
    CHATFN_BOOTSTRAP_CLIENT_ID: 'bootstrap-client',
    CHATFN_BOOTSTRAP_CLIENT_SECRET: 'bootstrap-secret-123',
  });

  const start = () => {
    output = '';
    const c = spawn(process.execPath, [MAIN], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d) => (output += d));
    c.stderr!.on('data', (d) => (output += d));
    child = c;
    return c;
  };
  const stop = async (c: ChildProcess) => {
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.kill('SIGTERM');
    return exited;
  };
  const ready = async () => {
    try {
      return await waitFor(
        async () => {
          if (child && child.exitCode !== null) throw new Error(`chatfn exited with code ${child.exitCode}`);
          const r = await fetch(`http://127.0.0.1:${port}/health/ready`);
          return r.status === 200 ? r.json() : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, what: '/health/ready' },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- chatfn output ---\n${output.slice(-4000)}`);
    }
  };
  const token = async () => {
    const r = await fetch(`http://127.0.0.1:${port}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('bootstrap-client:bootstrap-secret-123').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    return r.status;
  };

  beforeAll(async () => {
    expect(existsSync(MAIN)).toBe(true);
    dataDir = mkdtempSync(join(tmpdir(), 'chatfn-start-'));
    port = await freePort();
    pgPort = await freePort();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts on the embedded default, is ready, prints its URLs, and shuts down cleanly on SIGTERM', async () => {
    const c = start();
    const body = await ready();
    expect(body).toMatchObject({ status: 'up', checks: { database: true, bus: true } });
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    await waitFor(() => output.includes('/v1'), { what: 'printed URLs' });
    expect(output).toContain(`http://127.0.0.1:${port}/v1`);
    expect(output).toContain('/health/ready');
    expect(await token()).toBe(200);
    expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
    expect(await stop(c)).toBe(0);
  });

  it('keeps its data across a restart', async () => {
    const c = start();
    await ready();
    expect(await token()).toBe(200);
    expect(await stop(c)).toBe(0);
  });
});

describe('configuration', () => {
  it('fails fast on bad configuration, naming the variable', () => {
    const r = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: 'not-a-port', EXECUTOR_DRIVER: 'vm' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).toContain('EXECUTOR_DRIVER');
  });

  it('a service started on its own requires DATABASE_URL', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/apps/router/main.js')], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('DATABASE_URL');
  });
});
