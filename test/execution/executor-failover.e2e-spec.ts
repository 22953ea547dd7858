import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { freePort, TestServer, waitFor } from '@chatfn/testing';
import { AppClient, Json, startExecutionServer } from './execution.harness';

jest.setTimeout(240_000);

const EXECUTOR_MAIN = join(__dirname, '../../dist/apps/executor/main.js');
const LEASE_MS = 1500;

/**
 * Scale-out on Kafka: a second executor instance in its own process (`node dist/apps/executor/main.js`, sharing the
 * database, the broker and the secrets) takes part of the invocation requests; it is killed (with its runners)
 * mid-batch. Every source event still gets exactly one invocation record, SUCCEEDED: the survivor takes over the dead
 * executor's accepted invocations once its lease lapses, and redelivered requests of work already claimed are no-ops.
 */
describe('executor killed mid-batch (Kafka, two executor processes)', () => {
  let server: TestServer;
  let a: AppClient;
  let external: ChildProcess | undefined;
  let externalLog = '';

  beforeAll(async () => {
    if (!existsSync(EXECUTOR_MAIN)) throw new Error(`${EXECUTOR_MAIN} is missing: run npm run build first`);
    server = await startExecutionServer({ kafka: true, env: { CHATFN_EXECUTOR_LEASE_MS: String(LEASE_MS) } });
    a = await AppClient.create(server);
  });
  afterAll(async () => {
    if (external?.pid && external.exitCode === null && external.signalCode === null) process.kill(-external.pid, 'SIGKILL');
    await server?.close();
  });

  it('loses no invocation and records none twice', async () => {
    const fn = await a.deploy(
      'user.sent.message',
      `async function handleEvent(event) { await new Promise((r) => setTimeout(r, 400)); return { pid: process.pid }; }`,
    );
    const env = server.config.env;
    const port = await freePort();
    external = spawn(process.execPath, [EXECUTOR_MAIN], {
      detached: true, // its own process group: killing it takes its runners along, like a lost machine
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: server.databaseUrl,
        KAFKA_BROKERS: process.env.KAFKA_BROKERS,
        CHATFN_KAFKA_NAMESPACE: env.CHATFN_KAFKA_NAMESPACE,
        CHATFN_TOKEN_SECRET: env.CHATFN_TOKEN_SECRET,
        CHATFN_ENCRYPTION_KEY: env.CHATFN_ENCRYPTION_KEY,
        CHATFN_DATA_DIR: env.CHATFN_DATA_DIR,
        CHATFN_PUBLIC_URL: server.url,
        CHATFN_INSTANCE_ID: `ext-${port}`,
        CHATFN_EXECUTOR_LEASE_MS: String(LEASE_MS),
        CHATFN_RETRY_BACKOFF_MS: '20',
        CHATFN_MAX_ATTEMPTS: '2',
        LOG_LEVEL: 'warn',
      },
    });
    external.stdout!.on('data', (c: Buffer) => (externalLog = (externalLog + c.toString()).slice(-4000)));
    external.stderr!.on('data', (c: Buffer) => (externalLog = (externalLog + c.toString()).slice(-4000)));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok, {
      timeoutMs: 60_000,
      what: `the second executor to be ready: ${externalLog}`,
    });

    const db = server.app.get(DataSource);
    const running = async (ownerPrefix: string) =>
      Number((await db.query(`SELECT count(*)::int AS n FROM invocation_dedup WHERE status = 'running' AND owner LIKE $1`, [`${ownerPrefix}%`]))[0].n);
    const channels = await Promise.all(Array.from({ length: 12 }, () => a.newChannel()));
    const bodies: string[] = [];
    // Send until the second executor holds work (it joined the group and got partitions), then a little more.
    await waitFor(
      async () => {
        for (let i = 0; i < channels.length; i++) {
          const body = `m-${bodies.length}`;
          bodies.push(body);
          await a.send(channels[i], body);
        }
        return (await running('ext-')) > 0;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: 'the second executor to run invocations' },
    );
    process.kill(-external.pid!, 'SIGKILL');
    // What the dead executor had accepted and not finished: only a take-over can complete these.
    const orphaned: string[] = (
      await db.query(`SELECT invocation_id FROM invocation_dedup WHERE status = 'running' AND owner LIKE 'ext-%'`)
    ).map((r: { invocation_id: string }) => r.invocation_id);
    expect(orphaned.length).toBeGreaterThan(0);
    await new Promise<void>((r) => (external!.exitCode !== null || external!.signalCode !== null ? r() : external!.once('exit', () => r())));

    const all = await waitFor(
      async () => {
        const list = await allInvocations(db, fn.id);
        const done = bodies.filter((b) => list.some((i) => i.body === b && i.status === 'SUCCEEDED'));
        return done.length === bodies.length ? list : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: `all ${bodies.length} invocations to succeed` },
    ).catch(async (e: Error) => {
      // Say where the missing ones are: their log records and inbox claims.
      const list = await allInvocations(db, fn.id);
      const missing = bodies.filter((b) => !list.some((i) => i.body === b && i.status === 'SUCCEEDED'));
      const claims = await db.query(
        `SELECT status, owner, claimed_at, request->'event'->'message'->>'body' AS body FROM invocation_dedup WHERE function_id = $1`,
        [fn.id],
      );
      const about = missing.slice(0, 10).map((b) => ({
        body: b,
        records: list.filter((i) => i.body === b),
        claims: claims.filter((c: Json) => c.body === b),
      }));
      throw new Error(`${e.message}; ${missing.length} missing, e.g. ${JSON.stringify(about)}; claims by status/owner: ${JSON.stringify(
        Object.entries(claims.reduce((m: Record<string, number>, c: Json) => ((m[`${c.status}/${String(c.owner).split(':')[0]}`] = (m[`${c.status}/${String(c.owner).split(':')[0]}`] ?? 0) + 1), m), {})),
      )}; second executor: ${externalLog.slice(-1500)}`);
    });
    // Only this test's messages count: the suites share one broker and the executor's group, so a request an earlier
    // suite's server left unconsumed may reach this server's executor and be recorded here under the same ids.
    const ours = all.filter((i) => bodies.includes(i.body as string));
    for (const b of bodies) expect([b, ours.filter((i) => i.body === b).length]).toEqual([b, 1]);
    for (const id of orphaned) expect(ours.find((i) => i.invocation_id === id)?.status).toBe('SUCCEEDED');
    expect(ours).toHaveLength(bodies.length);
    await waitFor(async () => (await running('')) === 0, { what: 'no claim left running' });
  });
});

/** Every invocation record of the function (the API pages at 100; this reads the log itself). */
async function allInvocations(db: DataSource, fnId: number): Promise<Json[]> {
  return db.query(
    `SELECT invocation_id, status, attempt, args->'message'->>'body' AS body,
            CASE WHEN error IS NOT NULL THEN error->>'name' || ': ' || (error->>'message') END AS error
       FROM function_invocations WHERE function_id = $1`,
    [fnId],
  );
}
