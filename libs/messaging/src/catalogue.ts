import { REQUEST_TOPICS, TOPICS } from '@chatfn/contracts';
import { MessagingError } from './message-bus';

/** Envelopes given to publishEnvelopes (e.g. from the outbox) must name a catalogue topic, as the typed API does. */
export function assertCatalogueTopic(topic: string): void {
  if (!Object.hasOwn(TOPICS, topic) && !Object.hasOwn(REQUEST_TOPICS, topic)) {
    throw new MessagingError('INVALID_PAYLOAD', `unknown topic ${topic}: not in the topic catalogue`);
  }
}
