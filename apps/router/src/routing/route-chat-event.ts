import { createHash } from 'node:crypto';
import { ChatEventPayload, FunctionSnapshot, InvocationRequestedPayload, isBlockingTrigger, isTriggerType } from '@chatfn/contracts';

export interface RunnableFunctions {
  findRunnable(applicationId: number, triggerType: string): (FunctionSnapshot & { handlerScript: string }) | undefined;
}

export interface RoutedInvocation {
  /** Deterministic, so a redelivered chat event produces the same message (idempotent downstream). */
  eventId: string;
  payload: InvocationRequestedPayload;
}

/** A stable UUID-shaped id from a name (so redelivery of one chat event yields the same ids). */
export function stableId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Pure routing decision: the invocation requests a chat event causes. Only non-blocking trigger types route (blocking
 * ones are request-reply from chat), only below the depth limit (function-caused events stop there), and only to an
 * enabled function with a deployed version.
 */
export function routeChatEvent(
  eventId: string,
  event: ChatEventPayload,
  functions: RunnableFunctions,
  opts: { maxDepth: number; defaultTimeoutMs: number },
): RoutedInvocation[] {
  if (!isTriggerType(event.type) || isBlockingTrigger(event.type)) return [];
  if (event.depth >= opts.maxDepth) return [];
  const fn = functions.findRunnable(event.applicationId, event.type);
  if (!fn) return [];
  const name = `${eventId}:${fn.id}:${fn.currentVersionNumber}`;
  return [
    {
      eventId: stableId(`route:${name}`),
      payload: {
        invocationId: stableId(`invocation:${name}`),
        applicationId: event.applicationId,
        functionId: fn.id,
        triggerType: event.type,
        versionNumber: fn.currentVersionNumber,
        versionId: fn.currentVersionId,
        sourceEventId: eventId,
        channelId: event.channelId,
        depth: event.depth,
        attempt: 1,
        timeoutMs: fn.timeoutMs > 0 ? fn.timeoutMs : opts.defaultTimeoutMs,
        event: event.data,
      },
    },
  ];
}
