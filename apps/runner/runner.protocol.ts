/** Types of the runner protocol (see runner.ts); type-only so the compiled runner stays one file. */

/** Header every SDK request made during an invocation carries: the depth of the event it causes. */
export const DEPTH_HEADER = 'X-Chatfn-Event-Depth';

export interface InitRequest {
  /** The runtime's initialization script (compiled CommonJS); defaults to `<runtime dir>/init.js` when absent. */
  initScript?: string;
  accessToken?: string;
  accessTokenExpiresAt?: number;
  timeoutMs?: number;
}

export interface RunRequest {
  invocationId: string;
  /** Identifies a handler version (e.g. `fn:12:v3`); its module instance is cached and keeps its state. */
  versionKey: string;
  /**
   * Compiled CommonJS JavaScript that defines `handleEvent(event, context)`. May be left out when this runner already
   * loaded `versionKey` (the host's channel sends each version's script once).
   */
  script?: string;
  event: Record<string, unknown>;
  /** Depth of the chat event; SDK calls of this invocation carry `X-Chatfn-Event-Depth: depth + 1`. */
  depth: number;
  timeoutMs: number;
  maxLogBytes?: number;
  accessToken?: string;
  accessTokenExpiresAt?: number;
}

export interface RunnerError {
  name: string;
  message: string;
  stack?: string;
}

export interface RunnerReply {
  status: 'SUCCEEDED' | 'FAILED';
  result?: unknown;
  error?: RunnerError;
  timedOut?: boolean;
  logs: string;
  durationMs: number;
}

