import { makeEnvelope } from '@chatfn/contracts';
import { KafkaMessage } from 'kafkajs';
import { decodeEnvelope, decodeRecord, encodeEnvelope, packedEnvelopeJson, packedMessage } from './kafka-codec';

const asConsumed = (m: ReturnType<typeof encodeEnvelope>): KafkaMessage => {
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = Buffer.from(String(v));
  return { key: Buffer.from(String(m.key)), value: Buffer.from(String(m.value)), headers, timestamp: '0', attributes: 0, offset: '0' } as KafkaMessage;
};

describe('kafka codec', () => {
  const env = makeEnvelope('chat.event.recorded.v1', { applicationId: 1, type: 't', depth: 0, data: { a: [1] } }, 'test', 1, {
    key: 'app:1:channel:2',
    traceparent: '00-abc-def-01',
  });

  it('decodes what it encoded', () => {
    expect(decodeEnvelope(env.topic, asConsumed(encodeEnvelope(env)))).toEqual(env);
  });

  it('rejects a message without the envelope meta or with a value that is not JSON', () => {
    const encoded = encodeEnvelope(env);
    const withoutEventId = { ...encoded, headers: { ...encoded.headers, eventId: '' } };
    expect(() => decodeEnvelope(env.topic, asConsumed(withoutEventId))).toThrow(/eventId/);
    const badVersion = { ...encoded, headers: { ...encoded.headers, schemaVersion: 'x' } };
    expect(() => decodeEnvelope(env.topic, asConsumed(badVersion))).toThrow(/schemaVersion/);
    expect(() => decodeEnvelope(env.topic, asConsumed({ ...encoded, value: '{not json' }))).toThrow();
  });

  it('decodes a packed record into its envelopes in order, and a single one with header meta as itself', () => {
    const second = { ...env, eventId: 'e2', payload: { ...env.payload, data: { b: 2 } } };
    const packed = packedMessage(env.key, [packedEnvelopeJson(env), packedEnvelopeJson(second)]);
    expect(decodeRecord(env.topic, asConsumed(packed))).toEqual([env, second]);
    expect(decodeRecord(env.topic, asConsumed(encodeEnvelope(env)))).toEqual([env]);
  });

  it('rejects a record that is neither, or a packed envelope without its meta', () => {
    expect(() => decodeRecord(env.topic, asConsumed({ key: 'k', value: '{"a":1}' }))).toThrow(/neither/);
    const noId = packedMessage(env.key, [JSON.stringify({ ...JSON.parse(packedEnvelopeJson(env)), eventId: undefined })]);
    expect(() => decodeRecord(env.topic, asConsumed(noId))).toThrow(/eventId/);
    const badVersion = packedMessage(env.key, [JSON.stringify({ ...JSON.parse(packedEnvelopeJson(env)), schemaVersion: '1' })]);
    expect(() => decodeRecord(env.topic, asConsumed(badVersion))).toThrow(/schemaVersion/);
  });
});
