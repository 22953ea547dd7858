import { Injectable } from '@nestjs/common';

/** What the hub needs of a connection: deliver one event on one of its subscriptions. */
export interface TopicSubscriber {
  readonly id: string;
  /** Applications are isolated: a connection only ever receives events of its own application. */
  readonly applicationId: number | undefined;
  deliver(subscriptionId: string, destination: string, body: string, receiptId?: string): void;
}

/**
 * This process's live topic subscriptions: topic destination → connections → their subscription ids. Events are
 * serialized once per fan-out and written to every subscribed socket of the application.
 */
@Injectable()
export class TopicHub {
  private readonly topics = new Map<string, Map<TopicSubscriber, Set<string>>>();

  add(topic: string, sub: TopicSubscriber, subscriptionId: string): void {
    let subs = this.topics.get(topic);
    if (!subs) this.topics.set(topic, (subs = new Map()));
    let ids = subs.get(sub);
    if (!ids) subs.set(sub, (ids = new Set()));
    ids.add(subscriptionId);
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
    return [...(this.topics.get(topic)?.get(sub) ?? [])];
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
    const body = JSON.stringify({ type, version: 'v1', resource });
    let n = 0;
    for (const [sub, ids] of subs) {
      if (sub === skip || sub.applicationId !== applicationId) continue;
      for (const id of ids) {
        sub.deliver(id, topic, body);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.topics.size;
  }
}
