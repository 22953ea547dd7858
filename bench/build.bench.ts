/**
 * `npm run bench:build` — runtime build latency for both drivers (process, docker), measured from publishing
 * `registry.runtime.changed.v1` to the build being recorded as finished:
 *   (a) first build with one small dependency (cold npm cache, dependency layer not built before)
 *   (b) init-script-only change                         target ≤ 3 s
 *   (c) environment-only change                         target: no build
 *   (d) one more small dependency, warm npm cache       target ≤ 15 s
 * Starts the builder service alone (DATABASE_URL, or a throw-away embedded PostgreSQL; in-process bus), a fresh data
 * dir and npm cache per driver. Docker: needs the daemon and the base image (scripts/infra/docker-*.sh); the
 * bench removes the two dependency images it measures (and runtime images built on them) before it starts, so (a)
 * and (d) really install. Prints a table and writes bench-results/build.json.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { Client } from 'pg';
import { loadConfig } from '@chatfn/config';
import { RuntimeDependency } from '@chatfn/contracts';
import { startService } from '@chatfn/platform';
import { RuntimeArtifactsModule, RuntimeBuild } from '@chatfn/runtime-artifacts';
import { benchDatabase } from './bench-postgres';
import { freePortForBench } from './bench-port';
import { BUILDER_MIGRATIONS } from '../apps/builder/src/builder.migrations';
import { BuilderModule } from '../apps/builder/src/builder.module';
import { dependenciesHash } from '../apps/builder/src/builds/content-hash';
import { RuntimeBuildService } from '../apps/builder/src/builds/runtime-build.service';

const REPO_ROOT = resolve(__dirname, '../..');
const dep = (name: string, version: string): RuntimeDependency => ({ name, version, defaultDependency: false });
const ONE = [dep('ms', '2.1.3')];
const TWO = [dep('ms', '2.1.3'), dep('is-number', '7.0.0')];

interface Row {
  driver: string;
  step: string;
  ms: number;
  status: string;
  npmRan: boolean;
  target?: string;
  met?: boolean;
}

async function forgetDockerDeps(docker: Docker, depsHash: string): Promise<void> {
  const runtimes = await docker.listImages({ filters: JSON.stringify({ label: [`dev.chatfn.dependencies-hash=${depsHash}`] }) });
  for (const img of runtimes.filter((i) => i.Labels?.['dev.chatfn.kind'] === 'runtime')) {
    for (const t of img.RepoTags ?? []) await docker.getImage(t).remove({ force: true }).catch(() => undefined);
  }
  await docker.getImage(`chatfn-deps:${depsHash}`).remove({ force: true }).catch(() => undefined);
}

async function benchDriver(driver: 'process' | 'docker', databaseUrl: string): Promise<Row[]> {
  const dataDir = mkdtempSync(join(tmpdir(), `chatfn-bench-build-${driver}-`));
  // embedded PostgreSQL runs as the `postgres` user when we are root: it must reach the data dir.
  chmodSync(dataDir, 0o755);
  const port = await freePortForBench();
  const config = loadConfig({
    ...Object.fromEntries(
      ['NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'CHATFN_BASE_IMAGE', 'CHATFN_NPM_REGISTRY']
        .filter((k) => process.env[k])
        .map((k) => [k, process.env[k]!]),
    ),
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    CHATFN_DATA_DIR: dataDir,
    CHATFN_TOKEN_SECRET: 'b'.repeat(40),
    EXECUTOR_DRIVER: driver,
    LOG_LEVEL: 'warn',
  });
  const svc = await startService(
    { name: `builder-bench-${driver}`, modules: [BuilderModule, RuntimeArtifactsModule], migrations: BUILDER_MIGRATIONS },
    config,
  );
  const builds = svc.app.get(RuntimeBuildService);
  const rows: Row[] = [];
  try {
    if (driver === 'docker') {
      const id = await builds.builder.identity();
      const docker = new Docker();
      for (const deps of [ONE, TWO]) await forgetDockerDeps(docker, dependenciesHash(id, deps));
    }
    const app = 1;
    let revision = 0;
    const step = async (name: string, deps: RuntimeDependency[], script: string, type: string, envRevision = 0): Promise<RuntimeBuild> => {
      revision += 1;
      const t0 = performance.now();
      await svc.bus.publish(
        'registry.runtime.changed.v1',
        {
          type,
          runtime: { applicationId: app, runtimeId: app, type: 'NODEJS', dependencies: deps, initializationScript: script, revision, environmentRevision: envRevision },
        },
        { key: `app:${app}` },
      );
      for (;;) {
        const b = await builds.repo.findByRevision(app, driver, revision);
        if (b && ['succeeded', 'failed', 'skipped'].includes(b.status)) {
          const ms = Math.round(performance.now() - t0);
          rows.push({ driver, step: name, ms, status: b.status, npmRan: /npm install finished/.test(b.logs) });
          if (b.status === 'failed') console.error(`${driver} ${name} failed: ${b.error}`);
          return b;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await step('(a) first build, one small dependency (cold cache)', ONE, 'globalThis.a = 1;', 'runtime.dependencies-changed');
    await step('(b) init-script-only change', ONE, 'globalThis.a = 2;', 'runtime.init-script-changed');
    await step('(c) environment-only change', ONE, 'globalThis.a = 2;', 'runtime.environment-changed', 1);
    await step('(d) one more small dependency (warm cache)', TWO, 'globalThis.a = 2;', 'runtime.dependencies-changed', 1);
    const [a, b, c, d] = rows;
    void a;
    Object.assign(b, { target: '≤ 3000 ms', met: b.status === 'succeeded' && b.ms <= 3000 && !b.npmRan });
    Object.assign(c, { target: 'no build', met: c.status === 'skipped' });
    Object.assign(d, { target: '≤ 15000 ms', met: d.status === 'succeeded' && d.ms <= 15000 });
  } finally {
    await svc.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const drivers = (process.env.BENCH_DRIVERS ?? 'process,docker').split(',') as ('process' | 'docker')[];
  const rows: Row[] = [];
  const db = await benchDatabase();
  try {
    for (const d of drivers) {
      // one database per driver run: a fresh runtime_builds table
      const url = new URL(db.url);
      const name = `bench_${d}_${Date.now()}`;
      const admin = new Client({ connectionString: db.url });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      url.pathname = `/${name}`;
      rows.push(...(await benchDriver(d, url.toString())));
    }
  } finally {
    await db.stop();
  }
  console.table(rows);
  const dir = join(REPO_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const report = {
    bench: 'build',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg(), node: process.version },
    note: 'ms from publishing registry.runtime.changed.v1 to the build row being finished; npmRan = npm install ran',
    rows,
  };
  writeFileSync(join(dir, 'build.json'), JSON.stringify(report, null, 2) + '\n');
  const missed = rows.filter((r) => r.met === false);
  if (missed.length) console.error(`targets missed: ${missed.map((r) => `${r.driver} ${r.step}`).join('; ')}`);
  process.exit(missed.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
