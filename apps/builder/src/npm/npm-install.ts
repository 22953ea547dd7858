import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChatfnConfig } from '@chatfn/config';

/** Flags of every install: quiet about funding/audits, cache first, no lockfile registry trips. */
export function npmInstallArgs(config: ChatfnConfig, cacheDir: string): string[] {
  const args = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-update-notifier', '--cache', cacheDir];
  if (config.env.CHATFN_NPM_REGISTRY) args.push('--registry', config.env.CHATFN_NPM_REGISTRY);
  return args;
}

/** Egress variables (proxy, CA) from the configuration, both spellings: all that npm gets from the platform. */
export function egressEnv(config: ChatfnConfig, opts: { includeCa: boolean }): Record<string, string> {
  const env: Record<string, string> = {};
  const { HTTP_PROXY, HTTPS_PROXY, NO_PROXY, NODE_EXTRA_CA_CERTS } = config.env;
  if (HTTP_PROXY) env.HTTP_PROXY = env.http_proxy = HTTP_PROXY;
  if (HTTPS_PROXY) env.HTTPS_PROXY = env.https_proxy = HTTPS_PROXY;
  if (NO_PROXY) env.NO_PROXY = env.no_proxy = NO_PROXY;
  if (opts.includeCa && NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = NODE_EXTRA_CA_CERTS;
  return env;
}

/**
 * The whole environment of an npm run on the host: PATH, HOME (a scratch dir, so no user .npmrc), the cache and
 * egress settings. Install scripts of user packages see this and nothing of the platform's secrets.
 */
export function minimalNpmEnv(config: ChatfnConfig, home: string, cacheDir: string): Record<string, string> {
  return {
    PATH: [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':'),
    HOME: home,
    npm_config_cache: cacheDir,
    npm_config_update_notifier: 'false',
    ...egressEnv(config, { includeCa: true }),
  };
}

/** npm's CLI beside this node binary (`<prefix>/lib/node_modules/npm/bin/npm-cli.js`), or `npm` on PATH. */
export function npmCommand(): { file: string; prefix: string[] } {
  const cli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return existsSync(cli) ? { file: process.execPath, prefix: [cli] } : { file: 'npm', prefix: [] };
}

export class NpmInstallError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'NpmInstallError';
  }
}

/**
 * What to show for a failed install: npm's own error lines (`npm error ...` / `npm ERR! ...`) without the
 * log-file pointers, or the last lines of output.
 */
export function npmErrorSummary(output: string): string {
  const lines = output.split(/\r?\n/);
  const errors = lines
    .filter((l) => /^npm (error|ERR!)/.test(l))
    .map((l) => l.replace(/^npm (error|ERR!)\s?/, '').trimEnd())
    .filter((l) => l && !/complete log of this run|A complete log|^\s*$/.test(l) && !/\/_logs\//.test(l));
  if (errors.length) return errors.slice(0, 20).join('\n');
  return lines.filter(Boolean).slice(-10).join('\n') || 'npm install failed';
}

export interface NpmRunOptions {
  cwd: string;
  env: Record<string, string>;
  args: string[];
  timeoutMs: number;
  signal?: AbortSignal;
  onOutput: (chunk: string) => void;
}

/** Runs npm as a child process (own process group, killed whole on timeout or abort); rejects with npm's error. */
export function runNpm(opts: NpmRunOptions): Promise<void> {
  const { file, prefix } = npmCommand();
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(file, [...prefix, ...opts.args], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let timedOut = false;
    let aborted = false;
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    const onAbort = () => {
      aborted = true;
      kill();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const take = (b: Buffer) => {
      const s = b.toString('utf8');
      output += s;
      if (output.length > 1_000_000) output = output.slice(-500_000);
      opts.onOutput(s);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new NpmInstallError(`could not run npm: ${e.message}`));
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (timedOut) return reject(new NpmInstallError(`npm install timed out after ${opts.timeoutMs} ms`, true));
      if (aborted) return reject(new NpmInstallError('npm install was cancelled'));
      if (code === 0) return resolve();
      reject(new NpmInstallError(npmErrorSummary(output) || `npm exited with ${code ?? sig}`));
    });
  });
}
