import { ExecutionReply, FailurePolicy, FunctionSnapshot, RequestPayloads } from '@chatfn/contracts';

export const SEND_MESSAGE_TRIGGER = 'user.attempted.send_message';

/** Where the hook learns whether an application has an enabled send_message function (the registry's directory). */
export interface FunctionLookup {
  get(applicationId: number, triggerType: string): FunctionSnapshot | undefined;
}

/** How the hook asks an executor for the verdict (the bus's request-reply in production). */
export interface VerdictRequester {
  request(payload: RequestPayloads['executor.execution.requested.v1'], deadlineMs: number): Promise<ExecutionReply>;
}

export interface AttemptedMessage {
  type: 'TEXT' | 'FILE';
  body?: string;
  properties: Record<string, unknown>;
}

/** The send_message event as a function receives it: `{user, channel, message: {type, body, properties}}`. */
export interface AttemptedSendEvent {
  user: Record<string, unknown>;
  channel: Record<string, unknown>;
  message: AttemptedMessage;
}

export type SendVerdict = { body?: string; properties?: Record<string, unknown> };

/**
 * The blocking `user.attempted.send_message` hook: before a user's message is stored, an enabled function may change
 * its body/properties (return `{body?, properties?}`), let it through (return nothing) or reject it (throw). When no
 * executor answers in time the function's failure policy decides (`allow` by default).
 */
export class SendMessageHook {
  constructor(
    private readonly functions: FunctionLookup | undefined,
    private readonly requester: VerdictRequester,
    private readonly defaultDeadlineMs: number,
  ) {}

  /** Whether the application has a function to ask (an in-memory lookup): when not, `check` has nothing to do. */
  applies(applicationId: number): boolean {
    const fn = this.functions?.get(applicationId, SEND_MESSAGE_TRIGGER);
    return fn !== undefined && fn.enabled && fn.currentVersionNumber >= 1;
  }

  /** Returns the changes to apply (empty when none); throws `MessageRejectedError` on rejection. */
  async check(applicationId: number, event: AttemptedSendEvent, depth: number): Promise<SendVerdict> {
    const fn = this.functions?.get(applicationId, SEND_MESSAGE_TRIGGER);
    if (!fn || !this.applies(applicationId)) return {};
    const deadlineMs = fn.timeoutMs > 0 ? fn.timeoutMs : this.defaultDeadlineMs;
    const policy: FailurePolicy = fn.failurePolicy ?? 'allow';
    let reply: ExecutionReply;
    try {
      reply = await this.requester.request(
        { applicationId, triggerType: SEND_MESSAGE_TRIGGER, event: event as unknown as Record<string, unknown>, deadlineMs, functionId: fn.id, depth },
        deadlineMs,
      );
    } catch (e) {
      const code = (e as { name?: string; code?: string }).code;
      if ((e as Error)?.name === 'MessagingError' && code !== 'INVALID_PAYLOAD') {
        return onFailure(policy, `${code}: ${(e as Error).message}`);
      }
      throw e;
    }
    if (reply.outcome === 'no-function') return {};
    if (reply.error) {
      if (reply.timedOut) return onFailure(policy, reply.error.message);
      throw rejected(reply.error.message);
    }
    return verdictOf(reply.result);
  }
}

function onFailure(policy: FailurePolicy, reason: string): SendVerdict {
  if (policy === 'allow') return {};
  throw rejected(`The message could not be checked (${reason}) and the send_message function fails closed`);
}

/** A send_message function rejected the message (the HTTP layer renders it as a 400 `MessageRejectedError`). */
export class MessageRejectedError extends Error {
  constructor(message: string) {
    super(message || 'Message rejected by a chat function');
    this.name = 'MessageRejectedError';
  }
}

function rejected(message: string): MessageRejectedError {
  return new MessageRejectedError(message);
}

/** Accepts the function's return value, or an invocation result `{payload}` wrapping it. */
export function verdictOf(result: unknown): SendVerdict {
  let r = result;
  if (r && typeof r === 'object' && !Array.isArray(r) && Object.keys(r).length === 1 && 'payload' in r) {
    r = (r as { payload: unknown }).payload;
  }
  if (!r || typeof r !== 'object' || Array.isArray(r)) return {};
  const out: SendVerdict = {};
  const { body, properties } = r as { body?: unknown; properties?: unknown };
  if (typeof body === 'string') out.body = body;
  if (properties && typeof properties === 'object' && !Array.isArray(properties)) {
    out.properties = properties as Record<string, unknown>;
  }
  return out;
}
