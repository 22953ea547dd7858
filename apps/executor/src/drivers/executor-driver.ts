import type { InitRequest, RunnerReply, RunRequest } from '../../../runner/runner.protocol';

/** Everything a driver needs to start a runner for one application runtime. */
export interface RuntimeSpec {
  applicationId: number;
  /** Identity of the runtime (artifact content hash + environment revision): a new key means a new runner. */
  key: string;
  /** Process driver: directory with the runtime's node_modules (and optionally init.js). */
  directory?: string;
  /**
   * Top-level packages user code may `require` when the directory holds more than the application's dependencies
   * (the base runtime of the process driver is the installation's own node_modules). Unset: every package there.
   */
  packages?: string[];
  /** Docker driver: image holding the runtime (node_modules, runner, init script). */
  image?: string;
  /** The runtime's environment variables (decrypted); CHATKITTY_* are added by the runner. */
  env: Record<string, string>;
  /** Base URL of the Platform API as seen from the runner (`.../v1`). */
  chatBaseUrl: string;
  limits: RunnerLimits;
}

export interface RunnerLimits {
  memoryMb: number;
  cpus: number;
  pids: number;
}

export interface RunnerExit {
  code: number | null;
  signal: string | null;
  /** Human-readable reason (out of memory, killed after a timeout, crashed, ...). */
  reason: string;
}

/** A started runner. `run` never rejects: failures of the runner become a FAILED reply with a clear error. */
export interface RunnerHandle {
  readonly id: string;
  readonly spec: RuntimeSpec;
  readonly startedAt: number;
  /** False once the runner exited or was stopped. */
  readonly alive: boolean;
  readonly inFlight: number;
  readonly exited: Promise<RunnerExit>;
  init(req: InitRequest): Promise<RunnerReply>;
  /**
   * Runs one invocation. If the runner does not answer within `req.timeoutMs + grace` (an infinite loop blocks its
   * event loop) it is killed and the invocation fails with a TimeoutError.
   */
  run(req: RunRequest): Promise<RunnerReply>;
  /** Kills the runner; in-flight invocations fail with `reason`. */
  stop(reason?: string): Promise<void>;
}

/** Starts runners: child processes (`process`) or containers (`docker`). */
export abstract class ExecutorDriver {
  abstract readonly name: 'process' | 'docker';
  abstract start(spec: RuntimeSpec): Promise<RunnerHandle>;

  invoke(handle: RunnerHandle, req: RunRequest): Promise<RunnerReply> {
    return handle.run(req);
  }

  stop(handle: RunnerHandle): Promise<void> {
    return handle.stop();
  }

  /** Releases driver-wide resources. */
  async close(): Promise<void> {}
}
