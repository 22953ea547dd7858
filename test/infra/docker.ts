/**
 * Docker helpers for tests that run function containers: whether a daemon answers, and the local base image
 * (chatfn/node-base:20, see scripts/infra/docker-base-image.sh and scripts/infra/README.md).
 */
import { join } from 'node:path';
import { REPO_ROOT, log, run, succeeds } from './util';

export const BASE_IMAGE = process.env.CHATFN_BASE_IMAGE || 'chatfn/node-base:20';

/** true when `docker info` succeeds (CLI present and daemon reachable) within 15 s. */
export function dockerAvailable(): Promise<boolean> {
  return succeeds('docker', ['info', '--format', '{{.ServerVersion}}'], 15_000);
}

let ensured: Promise<string> | undefined;

/**
 * Builds the base image if it is missing or was built from another node version (the script is idempotent and
 * returns in well under a second when the image is current). Resolves to the image tag. Memoised per process.
 */
export function ensureBaseImage(): Promise<string> {
  ensured ??= (async () => {
    const started = Date.now();
    await run('bash', [join(REPO_ROOT, 'scripts', 'infra', 'docker-base-image.sh')], {
      env: { ...process.env, CHATFN_BASE_IMAGE: BASE_IMAGE },
      timeoutMs: 10 * 60_000,
      echoStderr: process.env.CHATFN_INFRA_VERBOSE === '1',
    });
    log(`base image ${BASE_IMAGE} ready in ${Date.now() - started} ms`);
    return BASE_IMAGE;
  })();
  ensured.catch(() => (ensured = undefined));
  return ensured;
}
