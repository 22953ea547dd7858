import { Envelope, envelopeHeaders } from '@chatfn/contracts';
import { IHeaders, KafkaMessage, Message } from 'kafkajs';

/** Headers of request-reply messages, beside the envelope's own. */
export const REPLY_HEADER = {
  /** Request: the requester's reply topic. */
  replyTo: 'replyTo',
  /** Request and reply: correlates the reply with the waiting request. */
  requestId: 'requestId',
  /** Request: epoch ms after which nobody waits for the answer. */
  deadlineAt: 'deadlineAt',
  /** Reply: the responder failed with this message. */
  error: 'error',
} as const;

export type Headers = Record<string, string | undefined>;

/** Key = envelope key (so one key stays on one partition), meta in headers, payload as a JSON value. */
export function encodeEnvelope(envelope: Envelope, extraHeaders?: Record<string, string>): Message {
  const headers = envelopeHeaders(envelope);
  return {
    key: envelope.key,
    value: JSON.stringify(envelope.payload ?? null),
    headers: extraHeaders ? { ...headers, ...extraHeaders } : headers,
  };
}

/**
 * Events travel packed: one record carries, in order, the envelopes of one key that were sent together (a send
 * with its notifications, a router batch's invocation requests for one channel), as `{"chatfn":1,"envelopes":[...]}`
 * with the meta of each envelope in its JSON and no record headers. Per record, kafkajs encodes and decodes a key,
 * a value and every header into buffers of their own; per envelope that cost dominated a busy all-in-one, and the
 * broker's per-record work shrinks the same way. Request-reply keeps one envelope per record with its meta in
 * headers (the responder reads its reply headers there), and consumers read both forms.
 */
export const PACKED_FORMAT = 1;

/** The JSON of one envelope inside a packed record (its topic and key are the record's). */
export function packedEnvelopeJson(envelope: Envelope): string {
  return JSON.stringify({
    eventId: envelope.eventId,
    occurredAt: envelope.occurredAt,
    correlationId: envelope.correlationId,
    causationId: envelope.causationId,
    traceparent: envelope.traceparent,
    producer: envelope.producer,
    schemaVersion: envelope.schemaVersion,
    payload: envelope.payload ?? null,
  });
}

/** One record of envelopes of one key, from their `packedEnvelopeJson`s. */
export function packedMessage(key: string, envelopeJsons: string[]): Message {
  return { key, value: `{"chatfn":${PACKED_FORMAT},"envelopes":[${envelopeJsons.join(',')}]}` };
}

/** The envelopes of a consumed record, packed or (headers carrying the meta) single. Throws when it is neither. */
export function decodeRecord(topic: string, message: KafkaMessage): Envelope[] {
  const headers = readHeaders(message.headers);
  if (headers.schemaVersion !== undefined) return [decodeEnvelope(topic, message, headers)];
  const doc = decodeJson(message.value) as { chatfn?: unknown; envelopes?: unknown } | null;
  if (!doc || doc.chatfn !== PACKED_FORMAT || !Array.isArray(doc.envelopes)) {
    throw new Error('neither envelope headers nor a packed record of envelopes');
  }
  const key = message.key?.toString() ?? '';
  return doc.envelopes.map((e: Record<string, unknown> | null) => {
    if (!e || typeof e !== 'object') throw new Error('a packed envelope is not an object');
    const schemaVersion = e.schemaVersion;
    if (typeof schemaVersion !== 'number' || !Number.isInteger(schemaVersion) || schemaVersion < 1) {
      throw new Error(`invalid packed envelope schemaVersion: ${String(schemaVersion)}`);
    }
    return {
      eventId: requiredString(e, 'eventId'),
      occurredAt: requiredString(e, 'occurredAt'),
      correlationId: requiredString(e, 'correlationId'),
      causationId: requiredString(e, 'causationId'),
      traceparent: typeof e.traceparent === 'string' && e.traceparent ? e.traceparent : undefined,
      producer: requiredString(e, 'producer'),
      schemaVersion,
      topic,
      key,
      payload: e.payload ?? null,
    };
  });
}

function requiredString(e: Record<string, unknown>, name: string): string {
  const value = e[name];
  if (typeof value !== 'string' || !value) throw new Error(`missing envelope field ${name}`);
  return value;
}

export function readHeaders(headers: IHeaders | undefined): Headers {
  const out: Headers = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    out[name] = last?.toString();
  }
  return out;
}

/**
 * Throws when the message is not an envelope (missing meta headers or a value that is not JSON). The checks are the
 * envelope meta schema's, written out: this runs for every consumed message, where a schema parse costs more than
 * the rest of the decoding.
 */
export function decodeEnvelope(topic: string, message: KafkaMessage, headers = readHeaders(message.headers)): Envelope {
  const schemaVersion = Number(headers.schemaVersion);
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) throw new Error(`invalid envelope header schemaVersion: ${headers.schemaVersion}`);
  return {
    eventId: required(headers, 'eventId'),
    occurredAt: required(headers, 'occurredAt'),
    correlationId: required(headers, 'correlationId'),
    causationId: required(headers, 'causationId'),
    traceparent: headers.traceparent || undefined,
    producer: required(headers, 'producer'),
    schemaVersion,
    topic,
    key: message.key?.toString() ?? '',
    payload: decodeJson(message.value),
  };
}

function required(headers: Headers, name: string): string {
  const value = headers[name];
  if (!value) throw new Error(`missing envelope header ${name}`);
  return value;
}

export function decodeJson(value: Buffer | null): unknown {
  return value && value.length > 0 ? JSON.parse(value.toString()) : null;
}
