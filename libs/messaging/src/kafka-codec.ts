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
