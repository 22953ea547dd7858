import { z } from 'zod';

/**
 * The topic catalogue: the only place topic names are written. Grammar: `<context>.<entity>.<event>.v<N>`.
 * Each topic has one payload schema; `TopicPayloads` maps a topic to its payload type so that
 * `bus.publish(topic, payload)` does not compile with a payload of another topic.
 */

// ---- chat -------------------------------------------------------------------------------------------------------

/** Every chat action (trigger events and platform events) on one topic, keyed by channel so per-channel order holds. */
export const ChatEventPayloadSchema = z.object({
  applicationId: z.number().int(),
  /** A trigger type (`user.sent.message`, ...) or a platform event (`channel.created`, `message.deleted`, ...). */
  type: z.string().min(1),
  channelId: z.number().int().optional(),
  userId: z.number().int().optional(),
  /** 0 for an action of a user or API client; n+1 for an action caused by a function run at depth n. */
  depth: z.number().int().min(0),
  /** For trigger types: exactly the `event` a chat function receives. */
  data: z.record(z.unknown()),
});
export type ChatEventPayload = z.infer<typeof ChatEventPayloadSchema>;

/**
 * A live event that is never stored (typing started/stopped, keystrokes): published straight to the bus (no outbox)
 * so that every real-time gateway instance delivers it to its own subscribers of `topic`. Keyed by channel.
 */
export const GatewayEphemeralPayloadSchema = z.object({
  applicationId: z.number().int(),
  /** The publishing gateway instance, which delivered to its own subscribers already. */
  origin: z.string().min(1),
  /** StompX topic destination (`/topic/channels/:id/typing`). */
  topic: z.string().min(1),
  /** StompX event type (`thread.typing.started`). */
  type: z.string().min(1),
  resource: z.record(z.unknown()),
});
export type GatewayEphemeralPayload = z.infer<typeof GatewayEphemeralPayloadSchema>;

// ---- registry ---------------------------------------------------------------------------------------------------

export const FailurePolicySchema = z.enum(['deny', 'allow']);
export type FailurePolicy = z.infer<typeof FailurePolicySchema>;

/** The state of a function after the change, so consumers keep their view from the topic alone. */
export const FunctionSnapshotSchema = z.object({
  id: z.number().int(),
  applicationId: z.number().int(),
  triggerType: z.string(),
  enabled: z.boolean(),
  currentVersionNumber: z.number().int().min(0),
  currentVersionId: z.number().int().optional(),
  handlerScript: z.string().optional(),
  timeoutMs: z.number().int().positive(),
  failurePolicy: FailurePolicySchema,
});
export type FunctionSnapshot = z.infer<typeof FunctionSnapshotSchema>;

export const FunctionChangedPayloadSchema = z.object({
  /** function.created | function.version-deployed | function.enabled | function.disabled | function.rolled-back | function.settings-changed */
  type: z.string().min(1),
  /** Stream version of the function after this change (orders changes per function). */
  version: z.number().int().positive(),
  function: FunctionSnapshotSchema,
});
export type FunctionChangedPayload = z.infer<typeof FunctionChangedPayloadSchema>;

export const RuntimeDependencySchema = z.object({
  name: z.string(),
  version: z.string(),
  defaultDependency: z.boolean(),
});
export type RuntimeDependency = z.infer<typeof RuntimeDependencySchema>;

/** Runtime definition without environment values: those are secrets and never travel on the bus. */
export const RuntimeSnapshotSchema = z.object({
  applicationId: z.number().int(),
  runtimeId: z.number().int(),
  type: z.literal('NODEJS'),
  dependencies: z.array(RuntimeDependencySchema),
  initializationScript: z.string(),
  /** Bumped on every change (dependencies, script or environment). */
  revision: z.number().int().positive(),
  /** Bumped when environment variables change; runners restart with the new values, no build needed. */
  environmentRevision: z.number().int().min(0),
});
export type RuntimeSnapshot = z.infer<typeof RuntimeSnapshotSchema>;

export const RuntimeChangedPayloadSchema = z.object({
  /** runtime.dependencies-changed | runtime.environment-changed | runtime.init-script-changed | runtime.build-requested */
  type: z.string().min(1),
  runtime: RuntimeSnapshotSchema,
});
export type RuntimeChangedPayload = z.infer<typeof RuntimeChangedPayloadSchema>;

// ---- builder ----------------------------------------------------------------------------------------------------

export const BuildStatusPayloadSchema = z.object({
  applicationId: z.number().int(),
  buildId: z.string(),
  runtimeRevision: z.number().int(),
  contentHash: z.string(),
  driver: z.enum(['process', 'docker']),
  status: z.enum(['requested', 'started', 'succeeded', 'failed', 'skipped']),
  artifact: z.object({ image: z.string().optional(), directory: z.string().optional() }).optional(),
  error: z.string().optional(),
});
export type BuildStatusPayload = z.infer<typeof BuildStatusPayloadSchema>;

// ---- execution --------------------------------------------------------------------------------------------------

export const InvocationRequestedPayloadSchema = z.object({
  invocationId: z.string(),
  applicationId: z.number().int(),
  functionId: z.number().int(),
  triggerType: z.string(),
  versionNumber: z.number().int().positive(),
  versionId: z.number().int().optional(),
  /** eventId of the chat event; (sourceEventId, functionId, versionNumber) identifies the work for dedup. */
  sourceEventId: z.string(),
  channelId: z.number().int().optional(),
  depth: z.number().int().min(0),
  attempt: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
  event: z.record(z.unknown()),
});
export type InvocationRequestedPayload = z.infer<typeof InvocationRequestedPayloadSchema>;

export const InvocationErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
});
export type InvocationError = z.infer<typeof InvocationErrorSchema>;

export const InvocationCompletedPayloadSchema = z.object({
  invocationId: z.string(),
  applicationId: z.number().int(),
  functionId: z.number().int(),
  triggerType: z.string(),
  versionNumber: z.number().int(),
  status: z.enum(['SUCCEEDED', 'FAILED']),
  args: z.record(z.unknown()),
  result: z.object({ payload: z.unknown() }).optional(),
  error: InvocationErrorSchema.optional(),
  logs: z.string(),
  durationMs: z.number(),
  attempt: z.number().int().positive(),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** true when this was the last attempt and the request went to the dead-letter topic. */
  deadLettered: z.boolean(),
});
export type InvocationCompletedPayload = z.infer<typeof InvocationCompletedPayloadSchema>;

export const InvocationDeadLetteredPayloadSchema = z.object({
  request: InvocationRequestedPayloadSchema,
  error: InvocationErrorSchema,
});
export type InvocationDeadLetteredPayload = z.infer<typeof InvocationDeadLetteredPayloadSchema>;

/** A blocking trigger (start_session, send_message) or a draft test run asks an executor for a verdict. */
export const ExecutionRequestSchema = z.object({
  applicationId: z.number().int(),
  triggerType: z.string(),
  event: z.record(z.unknown()),
  /** Deadline the caller waits for, in ms; the executor gives up at the same time. */
  deadlineMs: z.number().int().positive(),
  /** For a draft test run: the unsaved script (otherwise the function's current version runs). */
  draftScript: z.string().optional(),
  functionId: z.number().int().optional(),
  depth: z.number().int().min(0).default(0),
});
export type ExecutionRequest = z.infer<typeof ExecutionRequestSchema>;

export const ExecutionReplySchema = z.object({
  /** ran: the function ran (see error); no-function: nothing enabled for this trigger. */
  outcome: z.enum(['ran', 'no-function']),
  invocationId: z.string().optional(),
  versionNumber: z.number().int().optional(),
  result: z.unknown().optional(),
  error: InvocationErrorSchema.optional(),
  /** true when the error is a timeout (policy decides) rather than a throw (always denies). */
  timedOut: z.boolean().optional(),
  logs: z.string().default(''),
  durationMs: z.number().default(0),
});
export type ExecutionReply = z.infer<typeof ExecutionReplySchema>;

// ---- the catalogue ----------------------------------------------------------------------------------------------

export const TOPICS = {
  'chat.event.recorded.v1': ChatEventPayloadSchema,
  'gateway.ephemeral.published.v1': GatewayEphemeralPayloadSchema,
  'registry.function.changed.v1': FunctionChangedPayloadSchema,
  'registry.runtime.changed.v1': RuntimeChangedPayloadSchema,
  'builder.build.status.v1': BuildStatusPayloadSchema,
  'router.invocation.requested.v1': InvocationRequestedPayloadSchema,
  'executor.invocation.completed.v1': InvocationCompletedPayloadSchema,
  'executor.invocation.dead-lettered.v1': InvocationDeadLetteredPayloadSchema,
} as const;

export type Topic = keyof typeof TOPICS;

/**
 * Broker settings of topics that differ from the defaults: set when the bus creates a topic, and at start-up on an
 * existing topic that has no value of its own for one of them. Ephemeral events (keystrokes carry what a user is
 * typing) are kept a minute, not the broker's default week.
 */
export const TOPIC_CONFIG: Partial<Record<Topic, Record<string, string>>> = {
  'gateway.ephemeral.published.v1': { 'retention.ms': '60000', 'segment.ms': '60000' },
};
export type TopicPayloads = { [T in Topic]: z.infer<(typeof TOPICS)[T]> };
export const TOPIC_NAMES = Object.keys(TOPICS) as Topic[];

/** Request-reply topics: the request goes to the topic, the reply to the requester's own reply topic. */
export const REQUEST_TOPICS = {
  'executor.execution.requested.v1': { request: ExecutionRequestSchema, reply: ExecutionReplySchema },
} as const;
export type RequestTopic = keyof typeof REQUEST_TOPICS;
export type RequestPayloads = { [T in RequestTopic]: z.input<(typeof REQUEST_TOPICS)[T]['request']> };
export type ReplyPayloads = { [T in RequestTopic]: z.infer<(typeof REQUEST_TOPICS)[T]['reply']> };
export const REQUEST_TOPIC_NAMES = Object.keys(REQUEST_TOPICS) as RequestTopic[];

export function schemaVersionOf(topic: string): number {
  const m = /\.v(\d+)$/.exec(topic);
  return m ? Number(m[1]) : 1;
}

/** Partition keys: one grammar so every producer keys the same entity the same way. */
export const Keys = {
  channel: (applicationId: number, channelId: number) => `app:${applicationId}:channel:${channelId}`,
  application: (applicationId: number) => `app:${applicationId}`,
  fn: (functionId: number) => `function:${functionId}`,
};
