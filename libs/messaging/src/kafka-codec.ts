import { Envelope, envelopeFromHeaders, envelopeHeaders } from '@chatfn/contracts';
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

/** Throws when the message is not an envelope (missing meta headers or a value that is not JSON). */
export function decodeEnvelope(topic: string, message: KafkaMessage, headers = readHeaders(message.headers)): Envelope {
  return envelopeFromHeaders(topic, message.key?.toString() ?? '', headers, decodeJson(message.value));
}

export function decodeJson(value: Buffer | null): unknown {
  return value && value.length > 0 ? JSON.parse(value.toString()) : null;
}
