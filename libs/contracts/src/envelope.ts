import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** Metadata every message on the bus carries, whatever its topic. */
export const EnvelopeMetaSchema = z.object({
  /** Unique id of this message; consumers are idempotent on it. */
  eventId: z.string().min(1),
  /** ISO-8601 instant at which the fact happened. */
  occurredAt: z.string().min(1),
  /** Id shared by everything caused by one external request. */
  correlationId: z.string().min(1),
  /** eventId of the message that caused this one (equal to correlationId for a root). */
  causationId: z.string().min(1),
  /** W3C trace context of the producing span, if any. */
  traceparent: z.string().optional(),
  /** Service that produced the message (chat, registry, builder, router, executor). */
  producer: z.string().min(1),
  /** Version of the payload schema (the topic's vN). */
  schemaVersion: z.number().int().positive(),
});
export type EnvelopeMeta = z.infer<typeof EnvelopeMetaSchema>;

export interface Envelope<P = unknown, T extends string = string> extends EnvelopeMeta {
  topic: T;
  /** Partition key: messages with one key are delivered in order. */
  key: string;
  payload: P;
}

export interface EnvelopeOptions {
  key?: string;
  eventId?: string;
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  occurredAt?: string;
}

/** Builds an envelope; `cause` (an envelope being handled) propagates correlation and trace. */
export function makeEnvelope<P, T extends string>(
  topic: T,
  payload: P,
  producer: string,
  schemaVersion: number,
  opts: EnvelopeOptions & { cause?: EnvelopeMeta } = {},
): Envelope<P, T> {
  const eventId = opts.eventId ?? randomUUID();
  const correlationId = opts.correlationId ?? opts.cause?.correlationId ?? eventId;
  return {
    topic,
    key: opts.key ?? eventId,
    payload,
    eventId,
    occurredAt: opts.occurredAt ?? new Date().toISOString(),
    correlationId,
    causationId: opts.causationId ?? opts.cause?.eventId ?? eventId,
    traceparent: opts.traceparent ?? opts.cause?.traceparent,
    producer,
    schemaVersion,
  };
}

/** Serialised form used by the Kafka transport and the outbox: meta in headers, payload as JSON value. */
export function envelopeHeaders(env: EnvelopeMeta): Record<string, string> {
  const h: Record<string, string> = {
    eventId: env.eventId,
    occurredAt: env.occurredAt,
    correlationId: env.correlationId,
    causationId: env.causationId,
    producer: env.producer,
    schemaVersion: String(env.schemaVersion),
  };
  if (env.traceparent) h.traceparent = env.traceparent;
  return h;
}

export function envelopeFromHeaders<P>(
  topic: string,
  key: string,
  headers: Record<string, string | undefined>,
  payload: P,
): Envelope<P> {
  const meta = EnvelopeMetaSchema.parse({
    eventId: headers.eventId,
    occurredAt: headers.occurredAt,
    correlationId: headers.correlationId,
    causationId: headers.causationId,
    traceparent: headers.traceparent || undefined,
    producer: headers.producer,
    schemaVersion: Number(headers.schemaVersion),
  });
  return { ...meta, topic, key, payload };
}
