import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { runnerScriptPath } from '../../../runner/runner-script';
import { ExecutorDriver, RunnerHandle, RuntimeSpec } from './executor-driver';
import { RunnerConnection } from './runner-connection';

const START_TIMEOUT_MS = 15_000;

class ProcessRunner extends RunnerConnection {
  constructor(
    id: string,
    spec: RuntimeSpec,
    token: string,
    private readonly child: ChildProcess,
    private readonly tmp: string,
  ) {
    super(id, spec, '127.0.0.1', 0, token);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => this.appendStderr(c));
    child.once('exit', (code, signal) => {
      this.markExited(code, signal);
      rmSync(this.tmp, { recursive: true, force: true });
    });
  }

  /** Resolves when the runner printed its ready line. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => fail(new Error(`the runner did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.child.stdout?.removeListener('data', onData);
        void this.stop();
        reject(new Error(`${e.message}${this.stderrTail ? `: ${this.stderrTail.trim().slice(-1000)}` : ''}`));
      };
      const onData = (c: string) => {
        buf += c;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        try {
          const msg = JSON.parse(buf.slice(0, nl)) as { event?: string; port?: number };
          if (msg.event !== 'ready' || !msg.port) throw new Error(`unexpected first line ${buf.slice(0, nl)}`);
          this.port = msg.port;
          clearTimeout(timer);
          this.child.stdout?.removeListener('data', onData);
          this.child.stdout?.resume(); // later output (process.stdout.write by user code) is discarded
          // Runs and init go over the inherited socket pair (fd 3); HTTP stays for the SDK's token requests.
          const channel = this.child.stdio[3] as Duplex | null | undefined;
          if (channel) this.useChannel(channel);
          resolve();
        } catch (e) {
          fail(e as Error);
        }
      };
      this.child.stdout?.setEncoding('utf8');
      this.child.stdout?.on('data', onData);
      void this.exited.then((x) => fail(new Error(`the runner exited during start-up (${x.signal ?? x.code})`)));
    });
  }

  protected async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * Runners as child processes (the embedded default): a minimal environment (only the runtime's variables),
 * `--max-old-space-size`, the Node permission model (read only the runner and the runtime's node_modules, write only
 * a private temp dir, no child processes or workers), a lowered CPU priority; the host kills a runner that stops
 * answering (infinite loop) and the pool replaces it.
 */
export class ProcessExecutorDriver extends ExecutorDriver {
  readonly name = 'process' as const;

  async start(spec: RuntimeSpec): Promise<RunnerHandle> {
    if (!spec.directory) throw new Error(`the runtime of application ${spec.applicationId} has no directory for the process driver`);
    const script = runnerScriptPath();
    const tmp = mkdtempSync(join(tmpdir(), 'chatfn-run-'));
    const token = randomBytes(24).toString('base64url');
    const args = [
      `--max-old-space-size=${spec.limits.memoryMb}`,
      '--experimental-permission',
      `--allow-fs-read=${dirname(script)}/*`,
      `--allow-fs-read=${join(spec.directory, 'node_modules')}/*`,
      `--allow-fs-read=${join(spec.directory, 'init.js')}`,
      `--allow-fs-read=${tmp}/*`,
      `--allow-fs-write=${tmp}/*`,
      '--disable-warning=ExperimentalWarning',
      script,
    ];
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.env)) if (!k.startsWith('CHATFN_') && !k.startsWith('NODE_')) env[k] = v;
    Object.assign(env, {
      NODE_ENV: 'production',
      HOME: tmp,
      TMPDIR: tmp,
      CHATFN_RUNNER_TOKEN: token,
      CHATFN_RUNNER_PORT: '0',
      CHATFN_RUNNER_HOST: '127.0.0.1',
      CHATFN_RUNNER_CHANNEL: '3',
      CHATFN_RUNTIME_DIR: spec.directory,
      ...(spec.packages ? { CHATFN_RUNTIME_PACKAGES: spec.packages.join(',') } : {}),
      CHATFN_APPLICATION_ID: String(spec.applicationId),
      CHATFN_CHAT_BASE_URL: spec.chatBaseUrl,
    });
    const child = spawn(process.execPath, args, { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    if (child.pid) {
      try {
        setPriority(child.pid, 10);
      } catch {
        /* not permitted: keep the default priority */
      }
    }
    const runner = new ProcessRunner(`proc-${spec.applicationId}-${randomUUID().slice(0, 8)}`, spec, token, child, tmp);
    await runner.ready();
    return runner;
  }
}
