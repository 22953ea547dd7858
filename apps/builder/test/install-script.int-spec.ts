import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { BuilderHarness, dep, startBuilder } from './builder-harness';
import { LocalNpmRegistry, startLocalNpmRegistry } from './local-npm-registry';

jest.setTimeout(300_000);

const FAILING = 'chatfn-failing-postinstall';

describe.each(['process', 'docker'] as const)('builder, %s driver: a dependency whose install script fails', (driver) => {
  let registry: LocalNpmRegistry;
  let h: BuilderHarness;
  const app = 1;

  beforeAll(async () => {
    registry = await startLocalNpmRegistry([
      { name: FAILING, scripts: { postinstall: `node -e "console.error('boom from postinstall'); process.exit(3)"` } },
    ]);
    h = await startBuilder(driver, { CHATFN_NPM_REGISTRY: registry.url });
  });
  afterAll(async () => {
    await h?.close();
    await registry?.close();
  });

  it('fails the build with the script error and keeps the previous artifact live', async () => {
    await h.change(app, { revision: 1, dependencies: [dep('lodash', '4.17.21')], initializationScript: '/* ok */' });
    const ok = await h.finished(app, 1);
    expect(ok.error).toBeNull();
    expect(ok.status).toBe('succeeded');
    const before = (await h.artifacts.live(app, driver))!;
    expect(before).toMatchObject({ buildId: ok.id, runtimeRevision: 1 });

    await h.change(app, { revision: 2, dependencies: [dep('lodash', '4.17.21'), dep(FAILING, '1.0.0')] });
    const b = await h.finished(app, 2);
    expect(b.status).toBe('failed');
    // npm went through the local registry (the tarball itself may come from npm's content-addressed cache)
    expect(registry.requests.length).toBeGreaterThan(0);
    expect(b.error).toMatch(/boom from postinstall|postinstall|command failed/);
    expect(b.logs).toContain('boom from postinstall');
    expect(b.logs).toContain(`--registry ${registry.url}`);
    await expect(h.artifacts.live(app, driver)).resolves.toEqual(before);
    if (driver === 'process') {
      expect(existsSync(join(before.directory!, 'node_modules', 'lodash', 'package.json'))).toBe(true);
      expect(existsSync(join(h.dataDir, 'runtimes', b.contentHash))).toBe(false);
    } else {
      await expect(new Docker().getImage(before.image!).inspect()).resolves.toBeDefined();
      await expect(new Docker().getImage(`chatfn-runtime:${b.contentHash}`).inspect()).rejects.toThrow();
    }

    const res = await fetch(`${h.svc.url}/v1/runtimes/nodejs/builds`, { headers: { authorization: `Bearer ${h.token(app)}` } });
    const page = (await res.json()) as { _embedded: { builds: { runtimeRevision: number; status: string; error?: string }[] } };
    expect(page._embedded.builds[0]).toMatchObject({ runtimeRevision: 2, status: 'FAILED' });
    expect(page._embedded.builds[0].error).toMatch(/boom from postinstall|postinstall|command failed/);
  });
});
