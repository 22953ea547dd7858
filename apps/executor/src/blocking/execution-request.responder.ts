import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Envelope, ExecutionReply, Keys } from '@chatfn/contracts';
import { ChatfnConfig } from '@chatfn/config';
import { FunctionDirectory } from '@chatfn/function-directory';
import { MessageBus, Subscription } from '@chatfn/messaging';
import { completedPayload, FunctionInvoker } from '../invocations/function-invoker.service';
import { compileScript } from '../runners/compile-script';

export const EXECUTOR_BLOCKING_GROUP = 'executor-blocking';
/** Time kept back from the caller's deadline so the reply (not the caller's timeout) reports a timeout. */
const REPLY_MARGIN_MS = 25;
/**
 * Blocking invocations are recorded this long after their reply, many in one publish: under a stream of blocking
 * calls the recording (and the invocation log's write behind it) is not paid between one call and the next.
 */
const RECORD_LINGER_MS = 10;

/**
 * Answers `executor.execution.requested.v1` (blocking triggers and draft test runs) within the caller's deadline:
 * runs the enabled function (or the draft script), replies with the result or error, and records the invocation
 * of a real (non-draft) run on `executor.invocation.completed.v1`.
 */
@Injectable()
export class ExecutionRequestResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ExecutionRequestResponder.name);
  private subscription?: Subscription;
  private records: (() => Envelope)[] = [];
  private recordTimer?: NodeJS.Timeout;

  constructor(
    private readonly bus: MessageBus,
    private readonly config: ChatfnConfig,
    private readonly functions: FunctionDirectory,
    private readonly invoker: FunctionInvoker,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.respond('executor.execution.requested.v1', EXECUTOR_BLOCKING_GROUP, async (env) => {
      const req = env.payload;
      const depth = req.depth ?? 0;
      const draft = req.draftScript !== undefined;
      const fn = req.functionId !== undefined ? this.functions.getById(req.functionId) : this.functions.findRunnable(req.applicationId, req.triggerType);
      if (!draft) {
        if (!fn || fn.applicationId !== req.applicationId || !fn.enabled || !fn.handlerScript || fn.currentVersionNumber < 1) {
          return { outcome: 'no-function', logs: '', durationMs: 0 } satisfies ExecutionReply;
        }
        // Function-caused actions beyond the depth limit trigger nothing (no blocking recursion either).
        if (depth >= this.config.env.CHATFN_MAX_EVENT_DEPTH) return { outcome: 'no-function', logs: '', durationMs: 0 };
      }
      const invocationId = randomUUID();
      const fnTimeout = fn?.timeoutMs ?? this.config.env.CHATFN_FUNCTION_TIMEOUT_MS;
      const timeoutMs = Math.max(10, Math.min(fnTimeout, req.deadlineMs - REPLY_MARGIN_MS));
      const versionNumber = draft ? 0 : fn!.currentVersionNumber;
      const startedAt = new Date();
      const reply = await this.invoker.invoke({
        invocationId,
        applicationId: req.applicationId,
        functionId: fn?.id ?? req.functionId ?? 0,
        versionNumber,
        script: draft ? compileScript(req.draftScript!) : fn!.handlerScript!,
        event: req.event,
        depth,
        timeoutMs,
      });
      if (!draft) {
        // Recorded after the reply (see RECORD_LINGER_MS): the caller waits for the verdict, not for the invocation log.
        const payload = completedPayload(
          { invocationId, applicationId: req.applicationId, functionId: fn!.id, triggerType: req.triggerType, versionNumber, event: req.event },
          reply,
          { attempt: 1, startedAt, deadLettered: false },
        );
        this.record(() =>
          this.bus.envelope(
            'executor.invocation.completed.v1',
            payload,
            { key: Keys.fn(fn!.id), cause: env },
          ),
        );
      }
      return {
        outcome: 'ran',
        invocationId,
        versionNumber: draft ? undefined : versionNumber,
        result: reply.status === 'SUCCEEDED' ? reply.result : undefined,
        error: reply.error,
        timedOut: reply.timedOut ?? false,
        logs: reply.logs,
        durationMs: reply.durationMs,
      } satisfies ExecutionReply;
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
    await this.flushRecords();
  }

  private record(build: () => Envelope): void {
    this.records.push(build);
    this.recordTimer ??= setTimeout(() => void this.flushRecords(), RECORD_LINGER_MS);
  }

  private async flushRecords(): Promise<void> {
    clearTimeout(this.recordTimer);
    this.recordTimer = undefined;
    const builds = this.records.splice(0);
    if (builds.length === 0) return;
    const envelopes: Envelope[] = [];
    for (const build of builds) {
      try {
        envelopes.push(build());
      } catch (e) {
        this.logger.error(`recording a blocking invocation failed: ${String(e)}`);
      }
    }
    await this.bus
      .publishEnvelopes(envelopes)
      .catch((e) => this.logger.error(`recording ${envelopes.length} blocking invocation(s) failed: ${String(e)}`));
  }
}
