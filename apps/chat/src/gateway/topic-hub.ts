import { Injectable } from '@nestjs/common';
import { escapeValue, PreparedMessage, prepareMessage } from './stomp/stomp-frame';

export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';

/** What the hub needs of a connection: write one prepared event on one of its subscriptions. */
export interface TopicSubscriber {
  /** Applications are isolated: a connection only ever receives events of its own application. */
  readonly applicationId: number | undefined;
  /** Writes `message` with `subscriptionLine` (`subscription:<escaped id>\n`) and a message id of its own. */
  deliverPrepared(message: PreparedMessage, subscriptionLine: string): void;
}

/**
 * This process's live topic subscriptions: topic destination → connections → their subscription ids (with the
 * escaped `subscription:` header line, built once at SUBSCRIBE). An event is serialized once per fan-out (JSON and
 * the shared part of the STOMP frame); per subscriber only two header lines are added and the socket written, so a
 * fan-out costs O(1) per subscription.
 */
@Injectable()
export class TopicHub {
  private readonly topics = new Map<string, Map<TopicSubscriber, Map<string, string>>>();

  add(topic: string, sub: TopicSubscriber, subscriptionId: string): void {
    let subs = this.topics.get(topic);
    if (!subs) this.topics.set(topic, (subs = new Map()));
    let ids = subs.get(sub);
    if (!ids) subs.set(sub, (ids = new Map()));
    ids.set(subscriptionId, `subscription:${escapeValue(subscriptionId)}\n`);
  }

  remove(topic: string, sub: TopicSubscriber, subscriptionId: string): void {
    const subs = this.topics.get(topic);
    const ids = subs?.get(sub);
    if (!subs || !ids) return;
    ids.delete(subscriptionId);
    if (ids.size === 0) subs.delete(sub);
    if (subs.size === 0) this.topics.delete(topic);
  }

  /** Subscription ids `sub` holds on `topic` (empty when none). */
  subscriptionsOf(topic: string, sub: TopicSubscriber): string[] {
    return [...(this.topics.get(topic)?.get(sub)?.keys() ?? [])];
  }

  /** The connections subscribing `topic` in this process. */
  subscribersOf(topic: string): TopicSubscriber[] {
    return [...(this.topics.get(topic)?.keys() ?? [])];
  }

  hasSubscribers(topic: string): boolean {
    return this.topics.has(topic);
  }

  /**
   * Sends `{type, version, resource}` to every local subscriber of `topic` in `applicationId` (except `skip`).
   * Returns how many subscriptions received it.
   */
  publish(applicationId: number, topic: string, type: string, resource: unknown, skip?: TopicSubscriber): number {
    const subs = this.topics.get(topic);
    if (!subs) return 0;
    let message: PreparedMessage | undefined;
    let n = 0;
    for (const [sub, ids] of subs) {
      if (sub === skip || sub.applicationId !== applicationId) continue;
      message ??= prepareMessage(topic, JSON.stringify({ type, version: 'v1', resource }), JSON_CONTENT_TYPE);
      for (const line of ids.values()) {
        sub.deliverPrepared(message, line);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.topics.size;
  }
}
