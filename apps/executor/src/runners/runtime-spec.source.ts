import { Injectable, Logger } from '@nestjs/common';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { ChatfnConfig } from '@chatfn/config';
import { RuntimeDirectory } from '@chatfn/function-directory';
import { ArtifactDirectory } from '@chatfn/runtime-artifacts';
import { RuntimeSpec } from '../drivers/executor-driver';
import { compileScript } from './compile-script';

export interface ResolvedRuntime {
  spec: RuntimeSpec;
  /** Init script to pass at /init when the artifact has no init.js (the base runtime). */
  initScript?: string;
}

/** The default dependencies every runtime has (the registry's DEFAULT_DEPENDENCIES): what the base runtime offers. */
export const BASE_RUNTIME_PACKAGES = ['chatkitty'];

/** The chatfn installation's own node_modules (holds chatkitty): the base runtime of the process driver. */
export function installationRuntimeDir(): string {
  return resolve(dirname(require.resolve('chatkitty/package.json')), '..', '..');
}

/**
 * What runner an application needs now: the builder's live artifact (or the base runtime when the app has only
 * default dependencies / nothing built yet) plus the runtime's decrypted environment. The spec key changes when
 * either changes, which makes the pool replace the app's runner.
 */
@Injectable()
export class RuntimeSpecSource {
  private readonly logger = new Logger(RuntimeSpecSource.name);
  private readonly cache = new Map<number, Promise<ResolvedRuntime>>();

  constructor(
    private readonly config: ChatfnConfig,
    private readonly runtimes: RuntimeDirectory,
    private readonly artifacts: ArtifactDirectory,
  ) {}

  resolve(applicationId: number): Promise<ResolvedRuntime> {
    let p = this.cache.get(applicationId);
    if (!p) {
      p = this.load(applicationId);
      this.cache.set(applicationId, p);
      p.catch(() => this.cache.delete(applicationId));
    }
    return p;
  }

  invalidate(applicationId: number): void {
    this.cache.delete(applicationId);
  }

  private async load(applicationId: number): Promise<ResolvedRuntime> {
    const driver = this.config.env.EXECUTOR_DRIVER;
    const [artifact, env] = await Promise.all([
      this.artifacts.live(applicationId, driver).catch((e) => {
        this.logger.warn(`no artifact for application ${applicationId}: ${String(e)}`);
        return undefined;
      }),
      this.runtimes.environmentOf(applicationId),
    ]);
    const runtime = this.runtimes.get(applicationId);
    const limits = {
      memoryMb: this.config.env.CHATFN_RUNNER_MEMORY_MB,
      cpus: this.config.env.CHATFN_RUNNER_CPUS,
      pids: this.config.env.CHATFN_RUNNER_PIDS,
    };
    const envRevision = runtime?.environmentRevision ?? 0;
    const chatBaseUrl = `${this.config.publicUrl}/v1`;
    const hasInit = (dir?: string) => !!dir && existsSync(join(dir, 'init.js'));
    if (artifact && (artifact.directory || artifact.image)) {
      const spec: RuntimeSpec = {
        applicationId,
        key: `${artifact.contentHash}:env${envRevision}:${envHash(env)}`,
        directory: artifact.directory,
        image: artifact.image,
        env,
        chatBaseUrl,
        limits,
      };
      // An image always carries its init.js; a directory may not (then the registry's script is passed at /init).
      const initScript = artifact.image || hasInit(artifact.directory) ? undefined : compiledInit(runtime?.initializationScript);
      return { spec, initScript };
    }
    const script = compiledInit(runtime?.initializationScript);
    const spec: RuntimeSpec = {
      applicationId,
      key: `base:rev${runtime?.revision ?? 0}:env${envRevision}:${envHash(env)}`,
      directory: driver === 'process' ? installationRuntimeDir() : undefined,
      // The installation's node_modules holds the platform too: user code gets only the default dependencies.
      packages: driver === 'process' ? BASE_RUNTIME_PACKAGES : undefined,
      image: driver === 'docker' ? this.config.env.CHATFN_BASE_IMAGE : undefined,
      env,
      chatBaseUrl,
      limits,
    };
    return { spec, initScript: script };
  }
}

function compiledInit(script: string | undefined): string | undefined {
  if (!script || !script.trim()) return undefined;
  return compileScript(script);
}

function envHash(env: Record<string, string>): string {
  let h = 0;
  for (const [k, v] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    for (const c of `${k}=${v};`) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  }
  return (h >>> 0).toString(36);
}
