import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { BuilderHarness, dep, startBuilder } from './builder-harness';

jest.setTimeout(300_000);

const docker = new Docker();

/** Runs node as `app` in the image: init.js first (as the runner does), then `code`. */
async function runInImage(image: string, code: string): Promise<string> {
  const c = await docker.createContainer({
    Image: image,
    Cmd: ['node', '-e', `require('/app/init.js');${code}`],
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    const stream = await c.attach({ stream: true, stdout: true, stderr: true });
    let out = '';
    const sink = new PassThrough();
    sink.on('data', (b: Buffer) => (out += b.toString()));
    docker.modem.demuxStream(stream, sink, sink);
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const info = await c.inspect();
    if (StatusCode !== 0) throw new Error(`exit ${StatusCode}: ${out}`);
    return `${out.trim()}|${info.Config.User}`;
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

describe('builder, Docker driver (real Docker engine, real npm registry)', () => {
  let h: BuilderHarness;
  const app = 1;
  const marker = `docker-${Date.now()}`;

  beforeAll(async () => {
    h = await startBuilder('docker');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('builds an image in which lodash loads and the init script runs, as user app', async () => {
    await h.change(app, {
      revision: 1,
      dependencies: [dep('lodash', '4.17.21')],
      initializationScript: `globalThis.initRan = require('lodash').kebabCase(${JSON.stringify(marker)});`,
    });
    const b = await h.finished(app, 1);
    expect(b.error).toBeNull();
    expect(b.status).toBe('succeeded');
    expect(b.image).toBe(`chatfn-runtime:${b.contentHash}`);
    expect(b.lockfile).toContain('"node_modules/lodash"');
    const out = await runInImage(b.image!, `console.log(require('lodash').VERSION, globalThis.initRan, typeof require('chatkitty').ChatKitty)`);
    expect(out).toBe(`4.17.21 docker-${marker.slice(7)} function|app`);
    await expect(h.artifacts.live(app, 'docker')).resolves.toMatchObject({ buildId: b.id, image: b.image, runtimeRevision: 1 });
    expect(h.statuses.find((s) => s.runtimeRevision === 1 && s.status === 'succeeded')?.artifact?.image).toBe(b.image);
  });

  it('builds a script-only change on the same dependency layer, without npm', async () => {
    const t0 = Date.now();
    await h.change(app, { revision: 2, dependencies: [dep('lodash', '4.17.21')], initializationScript: 'globalThis.initRan = "two";' }, 'runtime.init-script-changed');
    const b = await h.finished(app, 2);
    const ms = Date.now() - t0;
    expect(b.status).toBe('succeeded');
    expect(b.logs).toMatch(/dependency layer chatfn-deps:[0-9a-f]+ reused \(no npm install\)/);
    expect(b.logs).not.toContain('npm install --no-audit');
    expect(ms).toBeLessThan(5_000);
    const first = await h.builds.repo.findByRevision(app, 'docker', 1);
    const [i1, i2] = await Promise.all([docker.getImage(first!.image!).inspect(), docker.getImage(b.image!).inspect()]);
    // the new image is the old one's layers minus the script layers: the dependency layers are shared
    const shared = i1.RootFS.Layers!.filter((l) => i2.RootFS.Layers!.includes(l));
    expect(shared.length).toBeGreaterThanOrEqual(i1.RootFS.Layers!.length - 2);
    expect(await runInImage(b.image!, `console.log(globalThis.initRan, require('lodash').VERSION)`)).toBe('two 4.17.21|app');
  });

  it('skips an environment-only change', async () => {
    const before = await h.artifacts.live(app, 'docker');
    await h.change(app, { revision: 3, environmentRevision: 1, dependencies: [dep('lodash', '4.17.21')], initializationScript: 'globalThis.initRan = "two";' }, 'runtime.environment-changed');
    const b = await h.finished(app, 3);
    expect(b.status).toBe('skipped');
    expect(await h.artifacts.live(app, 'docker')).toEqual(before);
  });

  it("fails lodash@999.0.0 with npm's message while the previous image stays live", async () => {
    const before = (await h.artifacts.live(app, 'docker'))!;
    await h.change(app, { revision: 4, dependencies: [dep('lodash', '999.0.0')] });
    const b = await h.finished(app, 4);
    expect(b.status).toBe('failed');
    expect(b.error).toMatch(/No matching version found for lodash@999\.0\.0/);
    await expect(h.artifacts.live(app, 'docker')).resolves.toEqual(before);
    expect(await runInImage(before.image!, `console.log(require('lodash').VERSION)`)).toBe('4.17.21|app');
    const res = await fetch(`${h.svc.url}/v1/runtimes/nodejs/builds`, { headers: { authorization: `Bearer ${h.token(app)}` } });
    const page = (await res.json()) as { _embedded: { builds: { status: string; error?: string; logs: string }[] } };
    expect(page._embedded.builds[0].status).toBe('FAILED');
    expect(page._embedded.builds[0].logs).toMatch(/No matching version found for lodash@999\.0\.0/);
  });

  it('fails a build over CHATFN_BUILD_TIMEOUT_MS and keeps the live image', async () => {
    const slow = await startBuilder('docker', { CHATFN_BUILD_TIMEOUT_MS: '1000' });
    try {
      // a dependency set never built before, so npm has to run (and cannot finish in 1 s)
      await slow.change(9, { revision: 1, dependencies: [dep('lodash', '4.17.21'), dep('ms', '2.1.3'), dep('uuid', `${9 + (Date.now() % 2)}.0.0`)] });
      const b = await slow.finished(9, 1, 60_000);
      expect(b.status).toBe('failed');
      expect(b.error).toMatch(/CHATFN_BUILD_TIMEOUT_MS|timed out/);
      await expect(slow.artifacts.live(9, 'docker')).resolves.toBeUndefined();
    } finally {
      await slow.close();
    }
  });
});
