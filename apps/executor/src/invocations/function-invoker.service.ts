import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InvocationCompletedPayload } from '@chatfn/contracts';
import { ChatfnConfig } from '@chatfn/config';
import type { RunnerReply } from '../../../runner/runner.protocol';
import { RunnerPool } from '../runners/runner-pool';

/**
 * What `executor.invocation.completed.v1` says of one run (the registry's invocation log): the invocation, the
 * runner's reply, the attempt and when it ran (finished: now).
 */
export function completedPayload(
  run: { invocationId: string; applicationId: number; functionId: number; triggerType: string; versionNumber: number; event: Record<string, unknown> },
  reply: RunnerReply,
  at: { attempt: number; startedAt: Date; deadLettered: boolean },
): InvocationCompletedPayload {
  return {
    invocationId: run.invocationId,
    applicationId: run.applicationId,
    functionId: run.functionId,
    triggerType: run.triggerType,
    versionNumber: run.versionNumber,
    status: reply.status,
    args: run.event,
    result: reply.status === 'SUCCEEDED' ? { payload: reply.result ?? null } : undefined,
    error: reply.error,
    logs: reply.logs,
    durationMs: reply.durationMs,
    attempt: at.attempt,
    startedAt: at.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    deadLettered: at.deadLettered,
  };
}

export interface InvokeCommand {
  invocationId: string;
  applicationId: number;
  functionId: number;
  /** 0 for a draft (test run). */
  versionNumber: number;
  /** Compiled CommonJS JavaScript defining `handleEvent`. */
  script: string;
  event: Record<string, unknown>;
  depth: number;
  timeoutMs: number;
}

/** Runs one handler version on the application's warm runner. */
@Injectable()
export class FunctionInvoker {
  constructor(
    private readonly pool: RunnerPool,
    private readonly config: ChatfnConfig,
  ) {}

  invoke(cmd: InvokeCommand): Promise<RunnerReply> {
    const versionKey =
      cmd.versionNumber > 0
        ? `fn:${cmd.functionId}:v${cmd.versionNumber}`
        : `draft:${cmd.functionId}:${createHash('sha256').update(cmd.script).digest('hex').slice(0, 16)}`;
    return this.pool.run(cmd.applicationId, {
      invocationId: cmd.invocationId,
      versionKey,
      script: cmd.script,
      event: cmd.event,
      depth: cmd.depth,
      timeoutMs: cmd.timeoutMs,
      maxLogBytes: this.config.env.CHATFN_INVOCATION_LOG_MAX_BYTES,
    });
  }
}
