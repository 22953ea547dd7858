import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@chatfn/testing';
import { AppClient, Json, startExecutionServer } from '../execution/execution.harness';
import type { TestServer } from '@chatfn/testing';

jest.setTimeout(300_000);

/** Shared across runs so the default dependencies (chatkitty) are not cold-installed every time. */
const NPM_CACHE = join(tmpdir(), 'chatfn-e2e-npm-cache');

interface Build {
  runtimeRevision: number;
  status: string;
  error?: string;
  logs?: string;
}

describe('runtime builds through the whole stack (all-in-one, process driver, real npm registry)', () => {
  let server: TestServer;
  let c: AppClient;

  const builds = async (): Promise<Build[]> => {
    const r = await c.api('GET', '/v1/runtimes/nodejs/builds?size=50');
    expect(r.status).toBe(200);
    return (r.body._embedded?.builds ?? []) as Build[];
  };
  /** Waits until every build is finished and the newest one that was not skipped has `status`. */
  const settled = (status: string, what: string) =>
    waitFor(
      async () => {
        const all = await builds();
        if (!all.length || all.some((b) => !['SUCCEEDED', 'FAILED', 'SKIPPED'].includes(b.status))) return undefined;
        const last = all.find((b) => b.status !== 'SKIPPED');
        return last?.status === status ? last : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 250, what },
    );

  beforeAll(async () => {
    server = await startExecutionServer({ driver: 'process', env: { CHATFN_NPM_CACHE_DIR: NPM_CACHE } });
    c = await AppClient.create(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('builds dependencies and an init script, runs a function on them, and keeps the old runtime when a build fails', async () => {
    await c.ck.RuntimeApi.updateNodejsRuntimeDependencies([{ name: 'lodash', version: '4.17.21' }] as never);
    await c.ck.RuntimeApi.updateNodejsRuntimeInitializationScript({
      script: `globalThis.fromInit = require('lodash').kebabCase('Init Ran');`,
    } as never);
    const ok = await settled('SUCCEEDED', 'the lodash build to succeed');
    expect(ok.logs).toContain('npm');
    await c.setEnv({ GREETING: 'hola' });

    const fn = await c.deploy(
      'user.sent.message',
      `async function handleEvent(event: any, context: any) {
         const _ = require('lodash');
         return { lodash: _.VERSION, words: _.kebabCase(event.message.body), greeting: process.env.GREETING, init: (globalThis as any).fromInit ?? null };
       }`,
    );
    const channelId = await c.newChannel();
    await c.send(channelId, 'Hello Big World');
    const first = await c.invocation(
      fn.id,
      (i: Json) => i.status === 'SUCCEEDED' && JSON.stringify(i.result ?? null).includes('hello-big-world'),
      'a SUCCEEDED invocation on the lodash runtime',
      60_000,
    );
    expect(first.result).toMatchObject({ payload: { lodash: '4.17.21', words: 'hello-big-world', greeting: 'hola', init: 'init-ran' } });

    await c.ck.RuntimeApi.updateNodejsRuntimeDependencies([{ name: 'lodash', version: '999.0.0' }] as never);
    const failed = await settled('FAILED', 'the lodash@999.0.0 build to fail');
    expect(failed.error).toMatch(/No matching version found for lodash@999\.0\.0/);
    expect(failed.logs).toMatch(/lodash@999\.0\.0/);

    await c.send(channelId, 'Still Old Runtime');
    const second = await c.invocation(
      fn.id,
      (i: Json) => i.status === 'SUCCEEDED' && JSON.stringify(i.result ?? null).includes('still-old-runtime'),
      'a SUCCEEDED invocation on the previous runtime',
      60_000,
    );
    expect(second.result).toMatchObject({ payload: { lodash: '4.17.21', words: 'still-old-runtime', greeting: 'hola', init: 'init-ran' } });
  });
});
