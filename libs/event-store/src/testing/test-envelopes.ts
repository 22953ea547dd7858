import { Envelope, makeEnvelope } from '@chatfn/contracts';

export function testEnvelope(key: string, payload: Record<string, unknown>): Envelope {
  return makeEnvelope('test.outbox.recorded.v1', payload, 'test', 1, { key });
}

/** Drops repeated eventIds (a consumer's idempotence), keeping first deliveries in order. */
export function firstDeliveries(envelopes: Envelope[]): Envelope[] {
  const seen = new Set<string>();
  return envelopes.filter((e) => !seen.has(e.eventId) && seen.add(e.eventId));
}

