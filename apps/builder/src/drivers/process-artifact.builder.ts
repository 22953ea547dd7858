import { existsSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ChatfnConfig } from '@chatfn/config';
import { RUNTIME_LAYOUT } from '@chatfn/runtime-artifacts';
import type { BuildIdentity } from '../builds/content-hash';
import { packageJsonFor } from '../builds/content-hash';
import { minimalNpmEnv, npmInstallArgs, NpmInstallError, runNpm } from '../npm/npm-install';
import { ArtifactBuilder, ArtifactRef, ArtifactSpec, BuildFailure, BuildLog, BuiltArtifact } from './artifact-builder';

/** `<CHATFN_NPM_CACHE_DIR>` (default `<CHATFN_DATA_DIR>/npm-cache`); host installs use `host/`, containers `docker/`. */
export function npmCacheRoot(config: ChatfnConfig): string {
  return config.env.CHATFN_NPM_CACHE_DIR ? resolve(config.env.CHATFN_NPM_CACHE_DIR) : join(config.dataDir, 'npm-cache');
}

const HASH_DIR = /^[0-9a-f]{32}$/;
const COMPLETE = '.complete';

/**
 * Process driver: an artifact is a directory `<CHATFN_DATA_DIR>/runtimes/<contentHash>/` with the runner, the init
 * script and a `node_modules` tree hard-linked from a shared dependency directory `runtimes/deps/<dependenciesHash>/`
 * (so a script-only change, or another application with the same dependencies, reuses the install without npm).
 * npm runs as a child process with a minimal environment.
 */
export class ProcessArtifactBuilder extends ArtifactBuilder {
  readonly driver = 'process' as const;
  readonly root: string;
  readonly depsRoot: string;
  readonly cacheDir: string;
  private readonly installs = new Map<string, Promise<{ lockfile?: string }>>();

  constructor(private readonly config: ChatfnConfig) {
    super();
    this.root = join(config.dataDir, 'runtimes');
    this.depsRoot = join(this.root, 'deps');
    this.cacheDir = join(npmCacheRoot(config), 'host');
  }

  async identity(): Promise<BuildIdentity> {
    return { base: `host:${process.platform}-${process.arch}`, nodeMajor: Number(process.versions.node.split('.')[0]) };
  }

  async exists(ref: ArtifactRef): Promise<boolean> {
    return !!ref.directory && existsSync(join(ref.directory, RUNTIME_LAYOUT.manifest)) && existsSync(join(ref.directory, RUNTIME_LAYOUT.nodeModules));
  }

  directoryOf(contentHash: string): string {
    return join(this.root, contentHash);
  }

  async build(spec: ArtifactSpec, log: BuildLog, signal: AbortSignal): Promise<BuiltArtifact> {
    const depsDir = join(this.depsRoot, spec.dependenciesHash);
    let dependencyLayerReused = existsSync(join(depsDir, COMPLETE));
    let lockfile: string | undefined;
    if (dependencyLayerReused) {
      log.write(`dependency layer deps/${spec.dependenciesHash} reused (no npm install)\n`);
      lockfile = await readFile(join(depsDir, RUNTIME_LAYOUT.lockfile), 'utf8').catch(() => undefined);
    } else {
      // One install per dependency set at a time, shared by concurrent builds that need it.
      let p = this.installs.get(spec.dependenciesHash);
      const mine = !p;
      if (!p) {
        p = this.install(spec, depsDir, log, signal).finally(() => this.installs.delete(spec.dependenciesHash));
        this.installs.set(spec.dependenciesHash, p);
      } else {
        log.write(`waiting for the running install of deps/${spec.dependenciesHash}\n`);
      }
      lockfile = (await p).lockfile;
      dependencyLayerReused = !mine;
    }
    const directory = await this.writeRuntimeDir(spec);
    return { directory, lockfile, dependencyLayerReused };
  }

  private async install(spec: ArtifactSpec, depsDir: string, log: BuildLog, signal: AbortSignal): Promise<{ lockfile?: string }> {
    const tmp = join(this.depsRoot, `.tmp-${spec.buildId}`);
    const home = join(this.root, '.home', spec.buildId);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    await mkdir(home, { recursive: true });
    await mkdir(this.cacheDir, { recursive: true });
    try {
      await writeFile(join(tmp, RUNTIME_LAYOUT.packageJson), packageJsonFor(spec.dependencies));
      const args = npmInstallArgs(this.config, this.cacheDir);
      log.write(`$ npm ${args.join(' ')}\n`);
      const started = Date.now();
      try {
        await runNpm({
          cwd: tmp,
          env: minimalNpmEnv(this.config, home, this.cacheDir),
          args,
          timeoutMs: this.config.env.CHATFN_BUILD_TIMEOUT_MS,
          signal,
          onOutput: (s) => log.write(s),
        });
      } catch (e) {
        if (e instanceof NpmInstallError) throw new BuildFailure(e.message, e.timedOut ? 'TIMEOUT' : 'INSTALL_FAILED');
        throw e;
      }
      log.write(`npm install finished in ${Date.now() - started} ms\n`);
      await mkdir(join(tmp, RUNTIME_LAYOUT.nodeModules), { recursive: true });
      await writeFile(join(tmp, COMPLETE), new Date().toISOString());
      if (existsSync(join(depsDir, COMPLETE))) {
        await rm(tmp, { recursive: true, force: true });
      } else {
        await rm(depsDir, { recursive: true, force: true });
        await rename(tmp, depsDir);
      }
      return { lockfile: await readFile(join(depsDir, RUNTIME_LAYOUT.lockfile), 'utf8').catch(() => undefined) };
    } finally {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      await rm(home, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async writeRuntimeDir(spec: ArtifactSpec): Promise<string> {
    const final = this.directoryOf(spec.contentHash);
    if (existsSync(join(final, RUNTIME_LAYOUT.manifest))) return final;
    const tmp = join(this.root, `.tmp-${spec.buildId}-rt`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const depsDir = join(this.depsRoot, spec.dependenciesHash);
    await writeFile(join(tmp, RUNTIME_LAYOUT.packageJson), await readFile(join(depsDir, RUNTIME_LAYOUT.packageJson)));
    const lock = await readFile(join(depsDir, RUNTIME_LAYOUT.lockfile)).catch(() => undefined);
    if (lock) await writeFile(join(tmp, RUNTIME_LAYOUT.lockfile), lock);
    // Hard links, not a symlink: the runtime dir stays self-contained (the process driver's permission model only
    // lets runners read below <dir>/node_modules, and module paths are resolved to real paths).
    await linkTree(join(depsDir, RUNTIME_LAYOUT.nodeModules), join(tmp, RUNTIME_LAYOUT.nodeModules));
    await writeFile(join(tmp, RUNTIME_LAYOUT.runner), spec.runner.source);
    await writeFile(join(tmp, RUNTIME_LAYOUT.initScript), spec.initializationScript);
    await writeFile(join(tmp, RUNTIME_LAYOUT.manifest), manifestOf(spec));
    if (existsSync(join(final, RUNTIME_LAYOUT.manifest))) {
      await rm(tmp, { recursive: true, force: true });
    } else {
      await rm(final, { recursive: true, force: true });
      await rename(tmp, final);
    }
    return final;
  }

  async collectGarbage(keep: Set<string>, graceMs: number): Promise<string[]> {
    const removed: string[] = [];
    const now = Date.now();
    const old = async (p: string) => now - (await stat(p)).mtimeMs >= graceMs;
    const usedDeps = new Set<string>();
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      if (!HASH_DIR.test(name)) continue;
      const dir = join(this.root, name);
      if (!keep.has(name) && (await old(dir))) {
        await rm(dir, { recursive: true, force: true });
        removed.push(name);
        continue;
      }
      const manifest = await readFile(join(dir, RUNTIME_LAYOUT.manifest), 'utf8').catch(() => '{}');
      const d = (JSON.parse(manifest) as { dependenciesHash?: string }).dependenciesHash;
      if (d) usedDeps.add(d);
    }
    for (const name of await readdir(this.depsRoot).catch(() => [] as string[])) {
      if (!HASH_DIR.test(name) || usedDeps.has(name) || this.installs.has(name)) continue;
      const dir = join(this.depsRoot, name);
      if (await old(dir)) {
        await rm(dir, { recursive: true, force: true });
        removed.push(`deps/${name}`);
      }
    }
    return removed;
  }
}

export function manifestOf(spec: ArtifactSpec): string {
  return `${JSON.stringify(
    {
      contentHash: spec.contentHash,
      dependenciesHash: spec.dependenciesHash,
      dependencies: spec.dependencies,
      runnerHash: spec.runner.hash,
      runner: RUNTIME_LAYOUT.runner,
      initScript: RUNTIME_LAYOUT.initScript,
    },
    null,
    2,
  )}\n`;
}

/** Recreates the tree `src` at `dst` with hard links to its files (copies when linking is not possible). */
export async function linkTree(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  for (const name of await readdir(src)) {
    const a = join(src, name);
    const b = join(dst, name);
    const st = await lstat(a);
    if (st.isDirectory()) await linkTree(a, b);
    else if (st.isSymbolicLink()) await symlink(await readlink(a), b);
    else if (st.isFile()) await link(a, b).catch(() => copyFile(a, b));
  }
}
