import {
  Envelope,
  EnvelopeMeta,
  EnvelopeOptions,
  makeEnvelope,
  ReplyPayloads,
  REQUEST_TOPICS,
  RequestPayloads,
  RequestTopic,
  schemaVersionOf,
  Topic,
  TopicPayloads,
  TOPICS,
} from '@chatfn/contracts';

export type MessageHandler<P> = (envelope: Envelope<P>) => Promise<void>;
/** Handles a batch: each key's messages in publish order; resolving commits the batch, throwing redelivers all of it. */
export type BatchHandler<P> = (envelopes: Envelope<P>[]) => Promise<void>;
export type RequestHandler<T extends RequestTopic> = (
  envelope: Envelope<RequestPayloads[T]>,
) => Promise<ReplyPayloads[T]>;

export interface SubscribeOptions {
  /** Read the topic from its start when the group has no committed position (default false: only new messages). */
  fromBeginning?: boolean;
  /** How many keys (partitions for Kafka) are handled at once; one key is always handled in order. Default 8. */
  concurrency?: number;
}

export interface BatchSubscribeOptions extends SubscribeOptions {
  /** Largest batch handed to the handler (default 500). */
  maxBatch?: number;
}

/** What a transport implements: `subscribe` is `subscribeBatch` with batches of one. */
export interface RawSubscribeOptions extends SubscribeOptions {
  maxBatch: number;
}

const DEFAULT_MAX_BATCH = 500;

/**
 * Envelopes built by `envelope()` in this process: their payload is already the schema's parse result. A transport
 * that hands such an object over as it is (the in-process bus) spares its consumers a second parse; everything
 * decoded from the wire (Kafka, the outbox) is parsed at the consumer's edge. Consumers treat envelopes as read-only.
 */
const validated = new WeakSet<object>();

export interface PublishOptions extends EnvelopeOptions {
  /** The message being handled that caused this one: propagates correlation id and trace context. */
  cause?: EnvelopeMeta;
}

export interface RequestOptions extends PublishOptions {
  /** The caller never waits longer than this. */
  deadlineMs: number;
}

export interface Subscription {
  close(): Promise<void>;
}

export type MessagingErrorCode = 'REQUEST_TIMEOUT' | 'NO_RESPONDER' | 'BUS_STOPPED' | 'INVALID_PAYLOAD' | 'REMOTE_ERROR';

export class MessagingError extends Error {
  constructor(
    readonly code: MessagingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MessagingError';
  }
}

/**
 * One interface for the bus, whatever carries it:
 * - `publish` — at-least-once; messages with one key reach each consumer group in publish order.
 * - `subscribe` — consumer groups: each group gets every message once per member set, spread across the group's
 *   members; a handler that throws gets the same message again after a backoff (the key's later messages wait).
 * - `subscribeBatch` — the same, but the handler gets what is available at once as one batch (one Kafka partition's
 *   fetch, one in-process key's backlog), each key's messages in order; its position is committed after the handler
 *   resolved, and a throw redelivers the whole batch after a backoff. For work that is cheaper in bulk.
 * - `request`/`respond` — request-reply with a deadline; replies come back on the requester's own reply channel.
 * Payloads are validated against the topic's schema on publish and parsed again at the consumer's edge.
 */
export abstract class MessageBus {
  constructor(readonly producer: string) {}

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  /** True when the bus can carry messages now (used by /health/ready). */
  abstract ready(): Promise<boolean>;

  /** Publishes prepared envelopes in order (used by the outbox relay, which stores envelopes). */
  abstract publishEnvelopes(envelopes: Envelope[]): Promise<void>;

  protected abstract subscribeRaw(
    topic: string,
    group: string,
    handler: BatchHandler<unknown>,
    opts: RawSubscribeOptions,
  ): Promise<Subscription>;

  protected abstract requestRaw(envelope: Envelope, deadlineMs: number): Promise<unknown>;

  protected abstract respondRaw(
    topic: string,
    group: string,
    handler: (envelope: Envelope) => Promise<unknown>,
  ): Promise<Subscription>;

  /** Builds a validated envelope without sending it (the outbox stores these). */
  envelope<T extends Topic>(topic: T, payload: TopicPayloads[T], opts: PublishOptions = {}): Envelope<TopicPayloads[T], T> {
    const parsed = TOPICS[topic].safeParse(payload);
    if (!parsed.success) {
      throw new MessagingError('INVALID_PAYLOAD', `invalid payload for ${topic}: ${parsed.error.message}`);
    }
    const env = makeEnvelope(topic, parsed.data as TopicPayloads[T], this.producer, schemaVersionOf(topic), opts);
    validated.add(env);
    return env;
  }

  async publish<T extends Topic>(
    topic: T,
    payload: TopicPayloads[T],
    opts: PublishOptions = {},
  ): Promise<Envelope<TopicPayloads[T], T>> {
    const env = this.envelope(topic, payload, opts);
    await this.publishEnvelopes([env]);
    return env;
  }

  subscribe<T extends Topic>(
    topic: T,
    group: string,
    handler: MessageHandler<TopicPayloads[T]>,
    opts: SubscribeOptions = {},
  ): Promise<Subscription> {
    return this.subscribeRaw(
      topic,
      group,
      async (envs) => {
        const env = this.parsed(topic, envs[0]);
        if (env) await handler(env);
      },
      { ...opts, maxBatch: 1 },
    );
  }

  subscribeBatch<T extends Topic>(
    topic: T,
    group: string,
    handler: BatchHandler<TopicPayloads[T]>,
    opts: BatchSubscribeOptions = {},
  ): Promise<Subscription> {
    return this.subscribeRaw(
      topic,
      group,
      async (envs) => {
        const batch: Envelope<TopicPayloads[T]>[] = [];
        for (const env of envs) {
          const parsed = this.parsed(topic, env);
          if (parsed) batch.push(parsed);
        }
        if (batch.length > 0) await handler(batch);
      },
      { ...opts, maxBatch: Math.max(1, Math.floor(opts.maxBatch ?? DEFAULT_MAX_BATCH)) },
    );
  }

  /** The envelope with its payload parsed at the consumer's edge, or undefined (logged) when it does not parse. */
  private parsed<T extends Topic>(topic: T, env: Envelope): Envelope<TopicPayloads[T]> | undefined {
    if (env.topic === topic && validated.has(env)) return env as Envelope<TopicPayloads[T]>;
    const parsed = TOPICS[topic].safeParse(env.payload);
    if (!parsed.success) {
      // A message that cannot be parsed will never succeed: skip it rather than block the key forever.
      console.error(`[bus] dropping invalid ${topic} message ${env.eventId}: ${parsed.error.message}`);
      return undefined;
    }
    return { ...env, payload: parsed.data as TopicPayloads[T] };
  }

  async request<T extends RequestTopic>(
    topic: T,
    payload: RequestPayloads[T],
    opts: RequestOptions,
  ): Promise<ReplyPayloads[T]> {
    const def = REQUEST_TOPICS[topic];
    const req = def.request.safeParse(payload);
    if (!req.success) throw new MessagingError('INVALID_PAYLOAD', `invalid request for ${topic}: ${req.error.message}`);
    const env = makeEnvelope(topic, req.data, this.producer, schemaVersionOf(topic), opts);
    validated.add(env);
    const reply = await this.requestRaw(env, opts.deadlineMs);
    const parsed = def.reply.safeParse(reply);
    if (!parsed.success) throw new MessagingError('INVALID_PAYLOAD', `invalid reply on ${topic}: ${parsed.error.message}`);
    return parsed.data as ReplyPayloads[T];
  }

  respond<T extends RequestTopic>(topic: T, group: string, handler: RequestHandler<T>): Promise<Subscription> {
    const def = REQUEST_TOPICS[topic];
    return this.respondRaw(topic, group, async (env) => {
      // Built by request() in this process and handed over as it is (in-process): already the parse result.
      if (env.topic === topic && validated.has(env)) return handler(env as Envelope<RequestPayloads[T]>);
      const parsed = def.request.safeParse(env.payload);
      if (!parsed.success) throw new MessagingError('INVALID_PAYLOAD', `invalid request on ${topic}: ${parsed.error.message}`);
      return handler({ ...env, payload: parsed.data as RequestPayloads[T] });
    });
  }
}
