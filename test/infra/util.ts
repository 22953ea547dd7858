/**
 * Small process/port helpers shared by the jest global setup modules (kafka.ts, postgres.ts, docker.ts).
 * Node builtins only.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** Repository root (this file lives in <root>/test/infra). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

export function log(message: string): void {
  process.stderr.write(`[test-infra] ${message}\n`);
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A TCP port that was free on 127.0.0.1 a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? res(port) : rej(new Error('could not get a free port'))));
    });
  });
}

/** `n` distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion. stderr is forwarded live to our stderr when `echoStderr` is set;
 * rejects with an error that carries stdout/stderr tails on a non-zero exit or a timeout.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; echoStderr?: boolean } = {},
): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (opts.echoStderr) process.stderr.write(d);
    });
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      rej(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) return res({ stdout, stderr });
      const why = timedOut ? `timed out after ${opts.timeoutMs} ms` : `exited with ${code ?? signal}`;
      rej(
        Object.assign(new Error(`${cmd} ${args.join(' ')} ${why}\n--- stderr (tail) ---\n${stderr.slice(-4000)}`), {
          stdout,
          stderr,
        }),
      );
    });
  });
}

/** execFile that resolves to true on exit 0 and false otherwise (never rejects). */
export function succeeds(cmd: string, args: string[], timeoutMs = 15_000): Promise<boolean> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err) => res(!err));
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line, or '' when it is gone (Linux /proc). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Polls (every 50 ms) until the pid is gone; false on timeout. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(50);
  }
  return true;
}

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`. Resolves once the pid is gone. */
export async function killPid(pid: number, graceMs = 20_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {}
  if (await waitForExit(pid, graceMs)) return;
  log(`pid ${pid} survived ${signal} for ${graceMs} ms; SIGKILL`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
  await waitForExit(pid, 5_000);
}

/** Rejects after `ms` with `what` in the message, unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
