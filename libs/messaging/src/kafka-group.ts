import { Admin, Consumer, ConsumerConfig, IMemberAssignment } from 'kafkajs';
import { errorMessage } from './backoff';

export interface ConsumerTuning {
  /** Fetch long-poll: how long the broker holds a fetch when there is nothing to return. */
  maxWaitTimeInMs: number;
  /** A member silent this long is removed from its group (heartbeats go every second). */
  sessionTimeout: number;
}

/** Settings shared by every consumer of the bus. */
export function consumerConfig(groupId: string, tuning: ConsumerTuning): ConsumerConfig {
  return {
    groupId,
    ...tuning,
    // A joining member is noticed by the others at their next heartbeat: keep joins (and so subscribe) quick.
    heartbeatInterval: 1000,
    allowAutoTopicCreation: false,
  };
}

/** Long enough for a production broker's group.initial.rebalance.delay.ms and a rebalance behind a slow handler. */
export const JOIN_TIMEOUT_MS = 60_000;

/** Resolves with this member's partitions once the consumer has joined its group (register before `run`). */
export function waitForJoin(consumer: Consumer, topic: string, timeoutMs = JOIN_TIMEOUT_MS): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const stopWaiting = () => {
      clearTimeout(timer);
      offJoin();
      offCrash();
    };
    const timer = setTimeout(() => {
      stopWaiting();
      reject(new Error(`consumer did not join its group on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    const offJoin = consumer.on(consumer.events.GROUP_JOIN, (event) => {
      stopWaiting();
      resolve(partitionsOf(event.payload.memberAssignment, topic));
    });
    const offCrash = consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart) return;
      stopWaiting();
      reject(event.payload.error);
    });
  });
}

/**
 * A new group reading "only new messages" would fix its position lazily, at its first fetch (and again after each
 * rebalance until something is committed), so messages published right after subscribe could be skipped. Committing
 * the current end of the partitions this member got makes "subscribe resolved ⇒ every later message is delivered".
 */
export async function commitStartPositions(
  consumer: Consumer,
  admin: Admin,
  groupId: string,
  topic: string,
  partitions: number[],
): Promise<void> {
  if (partitions.length === 0) return;
  // A topic created a moment ago (a new installation or namespace) may not have its leaders in the admin client's
  // metadata yet ("not the leader for that topic-partition"): refresh and try again before giving up.
  for (let attempt = 1; ; attempt++) {
    try {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const missing = new Set(
        (committed?.partitions ?? [])
          .filter((p) => partitions.includes(p.partition) && Number(p.offset) < 0)
          .map((p) => p.partition),
      );
      if (missing.size === 0) return;
      const ends = await admin.fetchTopicOffsets(topic);
      await consumer.commitOffsets(
        ends.filter((end) => missing.has(end.partition)).map((end) => ({ topic, partition: end.partition, offset: end.high })),
      );
      return;
    } catch (err) {
      if (attempt < START_POSITION_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, 100 * attempt));
        await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        continue;
      }
      // Only widens the start-up window described above; the subscription itself works.
      console.warn(`[bus] could not pin the start position of group ${groupId} on ${topic}: ${errorMessage(err)}`);
      return;
    }
  }
}

const START_POSITION_ATTEMPTS = 6;

/**
 * The handled positions of a consumer that runs with `autoCommit: false`, committed in one request for all of its
 * partitions when its owner says so (on a timer, when quiet, on close). Commits run one after another, each taking
 * the positions of its start; a partition that moved on meanwhile keeps its newer position for the next one.
 */
export class HandledPositions {
  /** Next offset to read per partition, handled and not yet committed. */
  private readonly positions = new Map<number, string>();
  private tail?: Promise<void>;

  /** Register before `consumer.run`. */
  constructor(
    private readonly consumer: Consumer,
    private readonly topic: string,
  ) {
    // After a rebalance, positions of partitions this member may have lost must not overwrite their new owner's.
    consumer.on(consumer.events.GROUP_JOIN, () => this.positions.clear());
  }

  /** `offset` of `partition` was handled: the next position is the one after it. */
  handled(partition: number, offset: string): void {
    this.positions.set(partition, (BigInt(offset) + 1n).toString());
  }

  /** Commits what was handled, after any commit under way; rejects when the broker refused (kept for the next). */
  commit(): Promise<void> {
    const run = (this.tail ?? Promise.resolve()).then(() => this.commitNow());
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async commitNow(): Promise<void> {
    if (this.positions.size === 0) return;
    const taken = [...this.positions];
    await this.consumer.commitOffsets(taken.map(([partition, offset]) => ({ topic: this.topic, partition, offset })));
    for (const [partition, offset] of taken) if (this.positions.get(partition) === offset) this.positions.delete(partition);
  }
}

function partitionsOf(assignment: IMemberAssignment, topic: string): number[] {
  return assignment[topic] ?? [];
}
