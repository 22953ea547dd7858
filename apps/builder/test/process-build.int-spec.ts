import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuilderHarness, dep, startBuilder } from './builder-harness';

/** Runs node in a runtime directory the way a runner does: init.js first, then a require from the runtime root. */
function runIn(dir: string, code: string): string {
  const script = `const m=require('module');const r=m.createRequire(${JSON.stringify(join(dir, 'package.json'))});` +
    `globalThis.require=r;require(${JSON.stringify(join(dir, 'init.js'))});${code}`;
  return execFileSync(process.execPath, ['-e', script], { cwd: dir, env: { PATH: process.env.PATH ?? '' } }).toString().trim();
}

jest.setTimeout(240_000);

/**
 * The artifact directory follows build statuses from the bus, so it shows a finished build once that status has
 * reached it, a moment after the build row says so. An earlier status of the same application (a superseded
 * revision's `skipped`) may have cached "none" until then.
 */
async function liveRevisionWhenSettled(h: BuilderHarness, applicationId: number, revision: number): Promise<number | undefined> {
  const until = Date.now() + 10_000;
  let live = await h.artifacts.live(applicationId, 'process');
  while (live?.runtimeRevision !== revision && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    live = await h.artifacts.live(applicationId, 'process');
  }
  return live?.runtimeRevision;
}

describe('builder, process driver (real npm registry)', () => {
  let h: BuilderHarness;
  const app = 1;
  const marker = `init-${Date.now()}`;

  beforeAll(async () => {
    h = await startBuilder('process');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('builds a runtime directory where lodash resolves and the init script runs', async () => {
    await h.change(app, {
      revision: 1,
      dependencies: [dep('lodash', '4.17.21')],
      initializationScript: `globalThis.initRan = require('lodash').kebabCase(${JSON.stringify(marker)});`,
    });
    const b = await h.finished(app, 1);
    expect(b.error).toBeNull();
    expect(b.status).toBe('succeeded');
    expect(b.live).toBe(true);
    expect(b.directory).toBe(join(h.dataDir, 'runtimes', b.contentHash));
    expect(b.lockfile).toContain('"lodash"');
    expect(runIn(b.directory!, `console.log(r('lodash').VERSION, globalThis.initRan, typeof r('chatkitty').ChatKitty === 'function' ? 'sdk' : '')`)).toBe(
      `4.17.21 init-${marker.slice(5)} sdk`,
    );
    expect(readFileSync(join(b.directory!, 'runner.js'), 'utf8').length).toBeGreaterThan(100);
    const live = await h.artifacts.live(app, 'process');
    expect(live).toMatchObject({ buildId: b.id, directory: b.directory, runtimeRevision: 1 });
    expect(h.statuses.filter((s) => s.runtimeRevision === 1).map((s) => s.status)).toEqual(['requested', 'started', 'succeeded']);
  });

  it('rebuilds a script-only change in seconds without npm', async () => {
    const t0 = Date.now();
    await h.change(app, { revision: 2, dependencies: [dep('lodash', '4.17.21')], initializationScript: 'globalThis.initRan = "second";' }, 'runtime.init-script-changed');
    const b = await h.finished(app, 2);
    const ms = Date.now() - t0;
    expect(b.status).toBe('succeeded');
    expect(b.logs).toContain('reused (no npm install)');
    expect(b.logs).not.toContain('$ npm install');
    expect(ms).toBeLessThan(3_000);
    expect(runIn(b.directory!, `console.log(globalThis.initRan, r('lodash').VERSION)`)).toBe('second 4.17.21');
    await expect(h.artifacts.live(app, 'process')).resolves.toMatchObject({ buildId: b.id, runtimeRevision: 2 });
  });

  it('skips an environment-only change', async () => {
    const before = await h.artifacts.live(app, 'process');
    await h.change(app, { revision: 3, environmentRevision: 1, dependencies: [dep('lodash', '4.17.21')], initializationScript: 'globalThis.initRan = "second";' }, 'runtime.environment-changed');
    const b = await h.finished(app, 3);
    expect(b.status).toBe('skipped');
    expect(b.error).toMatch(/no build needed/);
    expect(await h.artifacts.live(app, 'process')).toEqual(before);
  });

  it("fails a nonexistent version with npm's message and keeps the previous artifact live", async () => {
    const before = (await h.artifacts.live(app, 'process'))!;
    await h.change(app, { revision: 4, dependencies: [dep('lodash', '999.0.0')], initializationScript: '' });
    const b = await h.finished(app, 4);
    expect(b.status).toBe('failed');
    expect(b.error).toMatch(/No matching version found for lodash@999\.0\.0/);
    expect(b.logs).toMatch(/lodash@999\.0\.0/);
    const failedStatus = await waitForStatus(h, 4, 'failed');
    expect(failedStatus.error).toMatch(/No matching version found/);
    await expect(h.artifacts.live(app, 'process')).resolves.toEqual(before);
    expect(existsSync(join(before.directory!, 'node_modules', 'lodash', 'package.json'))).toBe(true);

    const res = await fetch(`${h.svc.url}/v1/runtimes/nodejs/builds?size=10`, { headers: { authorization: `Bearer ${h.token(app)}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { _embedded: { builds: { runtimeRevision: number; status: string; logs: string; error?: string }[] }; page: { total_elements: number } };
    expect(page.page.total_elements).toBe(4);
    expect(page._embedded.builds.map((x) => x.runtimeRevision)).toEqual([4, 3, 2, 1]);
    expect(page._embedded.builds[0]).toMatchObject({ status: 'FAILED' });
    expect(page._embedded.builds[0].error).toMatch(/No matching version/);
    expect(page._embedded.builds[3].logs).toContain('npm install');
    const bad = await fetch(`${h.svc.url}/v1/runtimes/nodejs/builds?size=0`, { headers: { authorization: `Bearer ${h.token(app)}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^size/);
    expect((await fetch(`${h.svc.url}/v1/runtimes/nodejs/builds`)).status).toBe(401);
  });

  it('fails an unknown package with npm\'s 404', async () => {
    await h.change(5 as number, {
      revision: 1,
      dependencies: [dep('chatfn-nonexistent-package-zz9', '1.0.0')],
    });
    const b = await h.finished(5, 1);
    expect(b.status).toBe('failed');
    expect(b.error).toMatch(/404|E404|Not Found/i);
    await expect(h.artifacts.live(5, 'process')).resolves.toBeUndefined();
  });

  it('refuses URL, git and file specs (defence in depth behind the registry)', async () => {
    await h.change(6, { revision: 1, dependencies: [dep('evil', 'file:/etc')] });
    const b = await h.finished(6, 1);
    expect(b.status).toBe('failed');
    expect(b.error).toMatch(/evil: version must be a semver range or a dist-tag/);
  });

  it('coalesces concurrent changes: the newest revision wins, a superseded one never becomes live', async () => {
    const a = 7;
    await h.change(a, { revision: 1, dependencies: [dep('lodash', '4.17.21')], initializationScript: '/* r1 */' });
    await h.change(a, { revision: 2, dependencies: [dep('lodash', '4.17.21')], initializationScript: '/* r2 */' });
    await h.change(a, { revision: 3, dependencies: [dep('lodash', '4.17.21')], initializationScript: '/* r3 */' });
    const b3 = await h.finished(a, 3);
    expect(b3.status).toBe('succeeded');
    await h.builds.idle();
    const b2 = await h.builds.repo.findByRevision(a, 'process', 2);
    expect(b2?.status).toBe('skipped');
    expect(b2?.error).toMatch(/superseded by runtime revision 3/);
    expect(await liveRevisionWhenSettled(h, a, 3)).toBe(3);
    // an older revision delivered late changes nothing
    await h.change(a, { revision: 2, dependencies: [], initializationScript: 'late' });
    await expect(h.artifacts.live(a, 'process')).resolves.toMatchObject({ runtimeRevision: 3 });
  });

  it('collects runtime directories no live build uses', async () => {
    await h.builds.idle();
    const live = (await h.artifacts.live(app, 'process'))!;
    const removed = await h.builds.collectGarbage(0);
    expect(removed.length).toBeGreaterThan(0);
    expect(existsSync(live.directory!)).toBe(true);
    expect(runIn(live.directory!, `console.log(r('lodash').VERSION)`)).toBe('4.17.21');
  });
});

async function waitForStatus(h: BuilderHarness, revision: number, status: string) {
  const { waitFor } = await import('@chatfn/testing');
  return waitFor(() => h.statuses.find((s) => s.runtimeRevision === revision && s.status === status), { what: `${status} status` });
}
