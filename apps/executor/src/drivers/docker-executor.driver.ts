import Docker from 'dockerode';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ChatfnConfig } from '@chatfn/config';
import { runnerScriptPath } from '../../../runner/runner-script';
import { installationRuntimeDir } from '../runners/runtime-spec.source';
import { ExecutorDriver, RunnerHandle, RuntimeSpec } from './executor-driver';
import { RunnerConnection } from './runner-connection';

const START_TIMEOUT_MS = 30_000;
/** Runtime root inside images built by the builder (RUNTIME_LAYOUT.imageRoot). */
const IMAGE_ROOT = '/app';
export const RUNNER_LABEL = 'dev.chatfn.runner';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

class ContainerRunner extends RunnerConnection {
  constructor(
    id: string,
    spec: RuntimeSpec,
    port: number,
    token: string,
    readonly container: Docker.Container,
  ) {
    super(id, spec, '127.0.0.1', port, token);
  }

  follow(docker: Docker): void {
    void this.container
      .logs({ follow: true, stdout: false, stderr: true })
      .then((stream) => {
        const err = new PassThrough();
        err.setEncoding('utf8');
        err.on('data', (c: string) => this.appendStderr(c));
        docker.modem.demuxStream(stream, new PassThrough(), err);
      })
      .catch(() => undefined);
    void this.container
      .wait()
      .then(async (r: { StatusCode?: number }) => {
        const info = await this.container.inspect().catch(() => undefined);
        if (info?.State?.OOMKilled) this.appendStderr('\nOOMKilled\n');
        this.markExited(r.StatusCode ?? null, null);
        await this.container.remove({ force: true }).catch(() => undefined);
      })
      .catch(() => this.markExited(null, 'lost'));
  }

  /** Polls the runner's /health until it answers (the container's port is on the host network). */
  async ready(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!this.alive) throw new Error(`the runner container exited during start-up: ${this.stderrTail.trim().slice(-1000)}`);
      if (await this.ping()) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`the runner container did not answer within ${START_TIMEOUT_MS} ms: ${this.stderrTail.trim().slice(-1000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request(
        { host: this.host, port: this.port, path: '/health', headers: { authorization: `Bearer ${this.token}` }, timeout: 1_000 },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
      req.on('timeout', () => {
        req.destroy();
        resolve(false);
      });
      req.end();
    });
  }

  protected async kill(): Promise<void> {
    await this.container.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Runners as containers: one per application runtime from the builder's image (or, before anything is built, the
 * base Node image with the runner and chatfn's own node_modules mounted read-only). Non-root, read-only root file
 * system with a tmpfs /tmp, no-new-privileges, all capabilities dropped, PID/memory/CPU limits. Host networking so
 * the runner reaches the chat API at the host and the executor reaches the runner on a loopback port.
 */
export class DockerExecutorDriver extends ExecutorDriver {
  readonly name = 'docker' as const;
  private readonly docker: Docker;

  constructor(private readonly config: ChatfnConfig, docker?: Docker) {
    super();
    this.docker = docker ?? new Docker();
  }

  async start(spec: RuntimeSpec): Promise<RunnerHandle> {
    const image = spec.image ?? this.config.env.CHATFN_BASE_IMAGE;
    const builtImage = image !== this.config.env.CHATFN_BASE_IMAGE;
    const port = await freePort();
    const token = randomBytes(24).toString('base64url');
    const binds: string[] = [];
    let runnerPath = `${IMAGE_ROOT}/runner.js`;
    if (!builtImage) {
      const script = runnerScriptPath();
      binds.push(`${dirname(script)}:/opt/chatfn-runner:ro`, `${join(installationRuntimeDir(), 'node_modules')}:${IMAGE_ROOT}/node_modules:ro`);
      runnerPath = '/opt/chatfn-runner/runner.js';
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.env)) if (!k.startsWith('CHATFN_') && !k.startsWith('NODE_')) env[k] = v;
    Object.assign(env, {
      NODE_ENV: 'production',
      HOME: '/tmp',
      TMPDIR: '/tmp',
      CHATFN_RUNNER_TOKEN: token,
      CHATFN_RUNNER_PORT: String(port),
      CHATFN_RUNNER_HOST: '127.0.0.1',
      CHATFN_RUNTIME_DIR: IMAGE_ROOT,
      CHATFN_APPLICATION_ID: String(spec.applicationId),
      CHATFN_CHAT_BASE_URL: spec.chatBaseUrl,
    });
    const memory = spec.limits.memoryMb * 1024 * 1024;
    const container = await this.docker.createContainer({
      Image: image,
      Cmd: ['node', `--max-old-space-size=${Math.max(16, Math.floor(spec.limits.memoryMb * 0.75))}`, runnerPath],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      User: '1000:1000',
      WorkingDir: '/tmp',
      Labels: { [RUNNER_LABEL]: 'true', 'dev.chatfn.application': String(spec.applicationId), 'dev.chatfn.runtime': spec.key },
      HostConfig: {
        NetworkMode: 'host',
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=64m' },
        SecurityOpt: ['no-new-privileges'],
        CapDrop: ['ALL'],
        PidsLimit: spec.limits.pids,
        Memory: memory,
        MemorySwap: memory,
        NanoCpus: Math.round(spec.limits.cpus * 1e9),
        Binds: binds.length ? binds : undefined,
      },
    });
    const runner = new ContainerRunner(`ctr-${spec.applicationId}-${randomUUID().slice(0, 8)}`, spec, port, token, container);
    try {
      await container.start();
    } catch (e) {
      await container.remove({ force: true }).catch(() => undefined);
      throw e;
    }
    runner.follow(this.docker);
    await runner.ready();
    return runner;
  }
}
