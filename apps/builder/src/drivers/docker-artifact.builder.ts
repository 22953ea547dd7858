import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import Docker from 'dockerode';
import { ChatfnConfig } from '@chatfn/config';
import { DEPENDENCY_IMAGE_REPOSITORY, RUNTIME_IMAGE_REPOSITORY, RUNTIME_LAYOUT } from '@chatfn/runtime-artifacts';
import type { BuildIdentity } from '../builds/content-hash';
import { packageJsonFor } from '../builds/content-hash';
import { entriesOfDirectory, filesOfTar, TarEntry, tarOf } from '../docker/tar-writer';
import { egressEnv, npmErrorSummary } from '../npm/npm-install';
import { ArtifactBuilder, ArtifactRef, ArtifactSpec, BuildFailure, BuildLog, BuiltArtifact } from './artifact-builder';
import { manifestOf, npmCacheRoot } from './process-artifact.builder';

const APP_UID = 1000;
const LABEL_KIND = 'dev.chatfn.kind';
const LABEL_HASH = 'dev.chatfn.content-hash';

/**
 * Docker driver. Two images per runtime, both content-addressed:
 * - `chatfn-deps:<dependenciesHash>` — FROM the base image + package.json, package-lock.json, node_modules. The
 *   install runs `npm install` in a throwaway container of the base image (user `app`, only the build dir and the
 *   npm cache mounted, a minimal environment), and its output is copied into the image from a tar context built
 *   here.
 * - `chatfn-runtime:<contentHash>` — FROM the dependency image + runner + init script, `USER app`. A script-only
 *   change builds only this (a tiny context, no npm).
 */
export class DockerArtifactBuilder extends ArtifactBuilder {
  readonly driver = 'docker' as const;
  readonly cacheDir: string;
  private identityCache?: { at: number; value: BuildIdentity };
  private readonly installs = new Map<string, Promise<void>>();

  constructor(
    private readonly config: ChatfnConfig,
    readonly docker: Docker = new Docker(),
  ) {
    super();
    this.cacheDir = join(npmCacheRoot(config), 'docker');
  }

  get baseImage(): string {
    return this.config.env.CHATFN_BASE_IMAGE;
  }

  async identity(): Promise<BuildIdentity> {
    if (this.identityCache && Date.now() - this.identityCache.at < 10_000) return this.identityCache.value;
    let info: Docker.ImageInspectInfo;
    try {
      info = await this.docker.getImage(this.baseImage).inspect();
    } catch (e) {
      throw new BuildFailure(`base image ${this.baseImage} is not available: ${(e as Error).message}`, 'INFRASTRUCTURE');
    }
    const labelled = info.Config?.Labels?.['dev.chatfn.node-version'];
    const envNode = info.Config?.Env?.find((v) => v.startsWith('NODE_VERSION='))?.split('=')[1];
    const version = (labelled ?? envNode ?? process.versions.node).replace(/^v/, '');
    const value = { base: info.Id, nodeMajor: Number(version.split('.')[0]) };
    this.identityCache = { at: Date.now(), value };
    return value;
  }

  async exists(ref: ArtifactRef): Promise<boolean> {
    if (!ref.image) return false;
    return this.imageExists(ref.image);
  }

  private async imageExists(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch {
      return false;
    }
  }

  async build(spec: ArtifactSpec, log: BuildLog, signal: AbortSignal): Promise<BuiltArtifact> {
    const depsImage = `${DEPENDENCY_IMAGE_REPOSITORY}:${spec.dependenciesHash}`;
    let dependencyLayerReused = await this.imageExists(depsImage);
    if (dependencyLayerReused) {
      log.write(`dependency layer ${depsImage} reused (no npm install)\n`);
    } else {
      let p = this.installs.get(spec.dependenciesHash);
      if (p) {
        log.write(`waiting for the running build of ${depsImage}\n`);
        dependencyLayerReused = true;
      } else {
        p = this.buildDependencyImage(spec, depsImage, log, signal).finally(() => this.installs.delete(spec.dependenciesHash));
        this.installs.set(spec.dependenciesHash, p);
      }
      await p;
    }
    const lockfile = await this.readFromImage(depsImage, `${RUNTIME_LAYOUT.imageRoot}/${RUNTIME_LAYOUT.lockfile}`).catch(() => undefined);

    const tag = `${RUNTIME_IMAGE_REPOSITORY}:${spec.contentHash}`;
    if (!(await this.imageExists(tag))) {
      const root = RUNTIME_LAYOUT.imageRoot;
      const dockerfile = [
        `FROM ${depsImage}`,
        `COPY ${RUNTIME_LAYOUT.runner} ${root}/${RUNTIME_LAYOUT.runner}`,
        `COPY ${RUNTIME_LAYOUT.initScript} ${RUNTIME_LAYOUT.manifest} ${root}/`,
        `ENV CHATFN_RUNTIME_DIR=${root} NODE_ENV=production`,
        `WORKDIR ${root}`,
        `USER app`,
        `CMD ["node", "${root}/${RUNTIME_LAYOUT.runner}"]`,
        '',
      ].join('\n');
      await this.buildImage(
        [
          { type: 'file', name: 'Dockerfile', data: dockerfile },
          { type: 'file', name: RUNTIME_LAYOUT.runner, data: spec.runner.source },
          { type: 'file', name: RUNTIME_LAYOUT.initScript, data: spec.initializationScript },
          { type: 'file', name: RUNTIME_LAYOUT.manifest, data: manifestOf(spec) },
        ],
        tag,
        { [LABEL_KIND]: 'runtime', [LABEL_HASH]: spec.contentHash, 'dev.chatfn.dependencies-hash': spec.dependenciesHash },
        log,
        signal,
      );
    } else {
      log.write(`image ${tag} already exists\n`);
    }
    const image = this.config.env.RUNTIME_REGISTRY ? await this.push(tag, log) : tag;
    return { image, lockfile, dependencyLayerReused };
  }

  private async buildDependencyImage(spec: ArtifactSpec, depsImage: string, log: BuildLog, signal: AbortSignal): Promise<void> {
    const work = join(this.config.dataDir, 'builds', spec.buildId);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    await mkdir(this.cacheDir, { recursive: true });
    const user = this.containerUser();
    try {
      await writeFile(join(work, RUNTIME_LAYOUT.packageJson), packageJsonFor(spec.dependencies));
      if (user === `${APP_UID}:${APP_UID}`) {
        await chown(work, APP_UID, APP_UID);
        await chown(join(work, RUNTIME_LAYOUT.packageJson), APP_UID, APP_UID);
        await chown(this.cacheDir, APP_UID, APP_UID);
      }
      await this.installInContainer(work, user, log, signal);
      if (!existsSync(join(work, RUNTIME_LAYOUT.nodeModules))) await mkdir(join(work, RUNTIME_LAYOUT.nodeModules));
      const root = RUNTIME_LAYOUT.imageRoot;
      const entries: TarEntry[] = [
        {
          type: 'file',
          name: 'Dockerfile',
          data: [
            `FROM ${this.baseImage}`,
            `WORKDIR ${root}`,
            `COPY ${RUNTIME_LAYOUT.packageJson} ${RUNTIME_LAYOUT.lockfile} ${root}/`,
            `COPY ${RUNTIME_LAYOUT.nodeModules} ${root}/${RUNTIME_LAYOUT.nodeModules}`,
            '',
          ].join('\n'),
        },
        { type: 'file', name: RUNTIME_LAYOUT.packageJson, data: await readFile(join(work, RUNTIME_LAYOUT.packageJson)) },
        {
          type: 'file',
          name: RUNTIME_LAYOUT.lockfile,
          data: await readFile(join(work, RUNTIME_LAYOUT.lockfile)).catch(() => Buffer.from('{}\n')),
        },
        ...(await entriesOfDirectory(join(work, RUNTIME_LAYOUT.nodeModules), RUNTIME_LAYOUT.nodeModules)),
      ];
      await this.buildImage(entries, depsImage, { [LABEL_KIND]: 'dependencies', 'dev.chatfn.dependencies-hash': spec.dependenciesHash }, log, signal);
    } finally {
      await rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Root builders run the install as `app` (uid 1000); others as themselves, so they can read the output. */
  private containerUser(): string {
    const uid = process.getuid?.() ?? 0;
    return uid === 0 ? `${APP_UID}:${APP_UID}` : `${uid}:${process.getgid?.() ?? uid}`;
  }

  private async installInContainer(work: string, user: string, log: BuildLog, signal: AbortSignal): Promise<void> {
    const args = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-update-notifier', '--cache', '/npm-cache'];
    if (this.config.env.CHATFN_NPM_REGISTRY) args.push('--registry', this.config.env.CHATFN_NPM_REGISTRY);
    log.write(`$ docker run ${this.baseImage} npm ${args.join(' ')}\n`);
    const env = { HOME: '/tmp', npm_config_update_notifier: 'false', ...egressEnv(this.config, { includeCa: false }) };
    const container = await this.docker.createContainer({
      Image: this.baseImage,
      User: user,
      WorkingDir: '/build',
      Cmd: ['npm', ...args],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: { [LABEL_KIND]: 'install' },
      HostConfig: { Binds: [`${work}:/build`, `${this.cacheDir}:/npm-cache`], NetworkMode: 'host', AutoRemove: false },
    });
    let output = '';
    const started = Date.now();
    let timedOut = false;
    const kill = () => container.kill().catch(() => undefined);
    const timer = setTimeout(() => {
      timedOut = true;
      void kill();
    }, this.config.env.CHATFN_BUILD_TIMEOUT_MS);
    signal.addEventListener('abort', kill, { once: true });
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const sink = new PassThrough();
      sink.on('data', (b: Buffer) => {
        const s = b.toString('utf8');
        output += s;
        if (output.length > 1_000_000) output = output.slice(-500_000);
        log.write(s);
      });
      this.docker.modem.demuxStream(stream, sink, sink);
      await container.start();
      const res = (await container.wait()) as { StatusCode: number };
      (stream as unknown as { destroy?: () => void }).destroy?.();
      if (timedOut) throw new BuildFailure(`npm install timed out after ${this.config.env.CHATFN_BUILD_TIMEOUT_MS} ms`, 'TIMEOUT');
      if (signal.aborted) throw new BuildFailure('build cancelled', 'CANCELLED');
      if (res.StatusCode !== 0) throw new BuildFailure(npmErrorSummary(output), 'INSTALL_FAILED');
      log.write(`npm install finished in ${Date.now() - started} ms\n`);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', kill);
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  private async buildImage(
    entries: TarEntry[],
    tag: string,
    labels: Record<string, string>,
    log: BuildLog,
    signal: AbortSignal,
  ): Promise<void> {
    const started = Date.now();
    log.write(`$ docker build -t ${tag}\n`);
    const timeoutSignal = AbortSignal.timeout(this.config.env.CHATFN_BUILD_TIMEOUT_MS);
    const stream = await this.docker.buildImage(Readable.from([tarOf(entries)]), {
      t: tag,
      labels,
      rm: true,
      forcerm: true,
      abortSignal: AbortSignal.any([signal, timeoutSignal]),
    } as Docker.ImageBuildOptions);
    let failure: string | undefined;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err) => (err ? reject(err) : resolve()),
        (ev: { stream?: string; error?: string; status?: string }) => {
          if (ev.stream) log.write(ev.stream);
          if (ev.status) log.write(`${ev.status}\n`);
          if (ev.error) {
            failure = ev.error;
            log.write(`${ev.error}\n`);
          }
        },
      );
    }).catch((e: Error) => {
      if (timeoutSignal.aborted) throw new BuildFailure(`docker build timed out after ${this.config.env.CHATFN_BUILD_TIMEOUT_MS} ms`, 'TIMEOUT');
      if (signal.aborted) throw new BuildFailure('build cancelled', 'CANCELLED');
      throw new BuildFailure(`docker build failed: ${e.message}`, 'IMAGE_BUILD_FAILED');
    });
    if (failure) throw new BuildFailure(`docker build failed: ${failure}`, 'IMAGE_BUILD_FAILED');
    log.write(`built ${tag} in ${Date.now() - started} ms\n`);
  }

  private async push(tag: string, log: BuildLog): Promise<string> {
    const registry = this.config.env.RUNTIME_REGISTRY!.replace(/\/$/, '');
    const [repo, version] = tag.split(':');
    const remote = `${registry}/${repo}`;
    await this.docker.getImage(tag).tag({ repo: remote, tag: version });
    log.write(`$ docker push ${remote}:${version}\n`);
    const stream = await this.docker.getImage(`${remote}:${version}`).push({});
    let failure: string | undefined;
    await new Promise<void>((resolve, reject) =>
      this.docker.modem.followProgress(
        stream,
        (err) => (err ? reject(err) : resolve()),
        (ev: { status?: string; error?: string }) => {
          if (ev.error) failure = ev.error;
          if (ev.status && !/Preparing|Waiting|Pushing/.test(ev.status)) log.write(`${ev.status}\n`);
        },
      ),
    ).catch((e: Error) => {
      throw new BuildFailure(`docker push failed: ${e.message}`, 'IMAGE_BUILD_FAILED');
    });
    if (failure) throw new BuildFailure(`docker push failed: ${failure}`, 'IMAGE_BUILD_FAILED');
    return `${remote}:${version}`;
  }

  /** A file of an image, read through a created (never started) container. */
  private async readFromImage(image: string, path: string): Promise<string> {
    const c = await this.docker.createContainer({ Image: image, Cmd: ['true'], Labels: { [LABEL_KIND]: 'probe' } });
    try {
      const stream = (await c.getArchive({ path })) as NodeJS.ReadableStream;
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      const files = filesOfTar(Buffer.concat(chunks));
      const first = files.values().next();
      if (first.done) throw new Error(`${path} not found in ${image}`);
      return first.value.toString('utf8');
    } finally {
      await c.remove({ force: true }).catch(() => undefined);
    }
  }

  async collectGarbage(keep: Set<string>, graceMs: number): Promise<string[]> {
    const removed: string[] = [];
    const images = await this.docker.listImages({ filters: JSON.stringify({ label: [`${LABEL_KIND}=runtime`] }) });
    const usedDeps = new Set<string>();
    const now = Date.now() / 1000;
    for (const img of images) {
      const hash = img.Labels?.[LABEL_HASH];
      if (!hash) continue;
      if (keep.has(hash) || now - img.Created < graceMs / 1000) {
        const d = img.Labels?.['dev.chatfn.dependencies-hash'];
        if (d) usedDeps.add(d);
        continue;
      }
      for (const t of img.RepoTags ?? []) {
        await this.docker.getImage(t).remove().catch(() => undefined);
      }
      removed.push(hash);
    }
    const deps = await this.docker.listImages({ filters: JSON.stringify({ label: [`${LABEL_KIND}=dependencies`] }) });
    for (const img of deps) {
      const d = img.Labels?.['dev.chatfn.dependencies-hash'];
      if (!d || usedDeps.has(d) || this.installs.has(d) || now - img.Created < graceMs / 1000) continue;
      // Fails while a runtime image still builds on it: fine, next time.
      await this.docker.getImage(`${DEPENDENCY_IMAGE_REPOSITORY}:${d}`).remove().catch(() => undefined);
      removed.push(`deps/${d}`);
    }
    return removed;
  }
}
