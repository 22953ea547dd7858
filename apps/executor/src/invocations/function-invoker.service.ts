import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ChatfnConfig } from '@chatfn/config';
import type { RunnerReply } from '../../../runner/runner.protocol';
import { RunnerPool } from '../runners/runner-pool';

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
