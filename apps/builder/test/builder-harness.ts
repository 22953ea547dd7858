import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@chatfn/config';
import { BuildStatusPayload, RuntimeChangedPayload, RuntimeDependency } from '@chatfn/contracts';
import { RunningService, startService, TokenService } from '@chatfn/platform';
import { ArtifactDirectory, RuntimeArtifactsModule, RuntimeBuild } from '@chatfn/runtime-artifacts';
import { createTestDatabase, freePort, waitFor } from '@chatfn/testing';
import { BUILDER_MIGRATIONS } from '../src/builder.migrations';
import { BuilderModule } from '../src/builder.module';
import { RuntimeBuildService } from '../src/builds/runtime-build.service';

/** A persistent npm cache for builder tests and benchmarks (a warm cache is what production has after day one). */
export const TEST_NPM_CACHE = join(tmpdir(), 'chatfn-builder-npm-cache');

export interface BuilderHarness {
  svc: RunningService;
  builds: RuntimeBuildService;
  artifacts: ArtifactDirectory;
  statuses: BuildStatusPayload[];
  dataDir: string;
  /** Publishes a runtime change as the registry would and returns when its build row exists. */
  change(applicationId: number, rt: RuntimeInput, type?: string): Promise<RuntimeBuild>;
  /** Waits until the build of that revision is finished (succeeded, failed or skipped). */
  finished(applicationId: number, revision: number, timeoutMs?: number): Promise<RuntimeBuild>;
  token(applicationId: number): string;
  close(): Promise<void>;
}

export interface RuntimeInput {
  revision: number;
  environmentRevision?: number;
  dependencies?: RuntimeDependency[];
  initializationScript?: string;
}

export const dep = (name: string, version: string): RuntimeDependency => ({ name, version, defaultDependency: false });

/** Starts the builder service alone (plus ArtifactDirectory) on a fresh database with the in-process bus. */
export async function startBuilder(driver: 'process' | 'docker', env: Record<string, string> = {}): Promise<BuilderHarness> {
  const db = await createTestDatabase('builder');
  const dataDir = mkdtempSync(join(tmpdir(), 'chatfn-builder-'));
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    CHATFN_DATA_DIR: dataDir,
    CHATFN_NPM_CACHE_DIR: TEST_NPM_CACHE,
    CHATFN_TOKEN_SECRET: 'x'.repeat(40),
    EXECUTOR_DRIVER: driver,
    LOG_LEVEL: 'warn',
    CHATFN_INSTANCE_ID: `builder-test-${port}`,
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '',
    HTTPS_PROXY: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    HTTP_PROXY: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
    NO_PROXY: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    ...env,
  });
  const svc = await startService(
    { name: 'builder', modules: [BuilderModule, RuntimeArtifactsModule], migrations: BUILDER_MIGRATIONS },
    config,
  );
  const builds = svc.app.get(RuntimeBuildService);
  const artifacts = svc.app.get(ArtifactDirectory);
  const statuses: BuildStatusPayload[] = [];
  const sub = await svc.bus.subscribe('builder.build.status.v1', `test-${port}`, async (e) => {
    statuses.push(e.payload);
  });
  const tokens = svc.app.get(TokenService);
  return {
    svc,
    builds,
    artifacts,
    statuses,
    dataDir,
    change: async (applicationId, rt, type = 'runtime.dependencies-changed') => {
      const payload: RuntimeChangedPayload = {
        type,
        runtime: {
          applicationId,
          runtimeId: applicationId,
          type: 'NODEJS',
          dependencies: rt.dependencies ?? [],
          initializationScript: rt.initializationScript ?? '',
          revision: rt.revision,
          environmentRevision: rt.environmentRevision ?? 0,
        },
      };
      await svc.bus.publish('registry.runtime.changed.v1', payload, { key: `app:${applicationId}` });
      return waitFor(() => builds.repo.findByRevision(applicationId, driver, rt.revision), { what: `build row of revision ${rt.revision}` });
    },
    finished: (applicationId, revision, timeoutMs = 180_000) =>
      waitFor(
        async () => {
          const b = await builds.repo.findByRevision(applicationId, driver, revision);
          return b && ['succeeded', 'failed', 'skipped'].includes(b.status) ? b : undefined;
        },
        { timeoutMs, intervalMs: 100, what: `build of revision ${revision} to finish` },
      ),
    token: (applicationId) => tokens.issue(applicationId, 'test').token,
    close: async () => {
      await sub.close();
      await svc.close();
      await db.drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
