import { Envelope } from '@chatfn/contracts';
import { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { errorMessage, redeliveryDelayMs } from './backoff';
import { decodeRecord } from './kafka-codec';
import { commitStartPositions, consumerConfig, ConsumerTuning, HandledPositions, waitForJoin } from './kafka-group';
import { BatchHandler, Subscription } from './message-bus';

export interface KafkaSubscriptionParams {
  kafka: Kafka;
  admin: Admin;
  /** The topic on the broker (namespaced). */
  topic: string;
  /** Its name in the catalogue: the topic of the envelopes handed over. */
  catalogueTopic: string;
  group: string;
  handler: BatchHandler<unknown>;
  /** Messages of one partition handed to the handler at once (1 for `subscribe`). */
  maxBatch: number;
  fromBeginning: boolean;
  concurrency: number;
  tuning: ConsumerTuning;
}

/** While a handler runs, the group is told every second that this member is alive. */
const HEARTBEAT_TICK_MS = 1000;
/**
 * Handled offsets are committed once the subscription has been quiet for COMMIT_IDLE_MS, at least every
 * COMMIT_INTERVAL_MS under a steady stream, and when it closes — not after every partition's batch as kafkajs does
 * by default: under load those commits were half of all requests to the broker (300/s against 200 fetches/s in
 * `bench:gateway`) and most of its CPU. The price: after a crash or a rebalance, up to a second of already-handled
 * messages is delivered again — the at-least-once every handler here is written for.
 */
const COMMIT_INTERVAL_MS = 1000;
const COMMIT_IDLE_MS = 50;

/**
 * One consumer-group member on one topic. Partitions are handled in parallel (up to `concurrency`), each one's
 * messages in order — one at a time, or for a batch subscriber up to `maxBatch` of a fetch at once; an offset is
 * committed only after the handler of its message (its batch) succeeded.
 *
 * A failing handler does not block the consumer: its partition is paused without resolving the failed offset and
 * resumed after a backoff, so the next fetch starts again at that message (the partition's later messages, its key's
 * among them, wait; other partitions go on).
 *
 * Long handlers: while one runs, a ticker heartbeats every second, so the member stays in its group however long
 * it takes. But kafkajs fetches again only when every batch of the previous fetch is done, so a long handler holds
 * up this member's other partitions: hand long work off to a tracked task.
 */
export class KafkaSubscription implements Subscription {
  private readonly consumer: Consumer;
  /** Consecutive failures of the message at the head of each partition. */
  private readonly failures = new Map<number, number>();
  /** Where a partition's redelivery starts inside its first record (a pack whose first envelopes were handled). */
  private readonly resumeAt = new Map<number, { offset: string; index: number }>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Heartbeat functions of the batches being handled now. */
  private readonly busy = new Set<() => Promise<void>>();
  private heartbeatTicker?: NodeJS.Timeout;
  private undecodable = 0;
  private closing?: Promise<void>;
  private positions?: HandledPositions;
  private commitTimer?: NodeJS.Timeout;
  /** When the oldest uncommitted batch was handled (0: none). */
  private firstUncommittedAt = 0;

  private constructor(private readonly params: KafkaSubscriptionParams) {
    this.consumer = params.kafka.consumer(consumerConfig(params.group, params.tuning));
  }

  static async open(params: KafkaSubscriptionParams): Promise<KafkaSubscription> {
    const subscription = new KafkaSubscription(params);
    try {
      await subscription.start();
    } catch (err) {
      await subscription.close();
      throw err;
    }
    return subscription;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Batches delivered from now on are left alone; the ones being handled finish, then their offsets are committed.
      while (this.busy.size > 0) await new Promise((r) => setTimeout(r, 5));
      clearInterval(this.heartbeatTicker);
      clearTimeout(this.commitTimer);
      await this.commit();
      await this.consumer.disconnect();
      for (const timer of this.retryTimers) clearTimeout(timer);
      this.retryTimers.clear();
    })();
    return this.closing;
  }

  private async start(): Promise<void> {
    const { admin, topic, group, fromBeginning, concurrency } = this.params;
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning });
    const joined = waitForJoin(this.consumer, topic);
    this.positions = new HandledPositions(this.consumer, topic);
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.max(1, Math.floor(concurrency)),
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    const partitions = await joined;
    if (!fromBeginning) await commitStartPositions(this.consumer, admin, group, topic, partitions);
    this.heartbeatTicker = setInterval(() => this.beat(), HEARTBEAT_TICK_MS);
    this.heartbeatTicker.unref();
  }

  /** After a handled batch: commit when quiet for COMMIT_IDLE_MS, or at the latest COMMIT_INTERVAL_MS after the first. */
  private scheduleCommit(): void {
    const now = Date.now();
    if (this.firstUncommittedAt === 0) this.firstUncommittedAt = now;
    clearTimeout(this.commitTimer);
    const wait = Math.max(0, Math.min(COMMIT_IDLE_MS, this.firstUncommittedAt + COMMIT_INTERVAL_MS - now));
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      this.firstUncommittedAt = 0;
      void this.commit();
    }, wait);
    this.commitTimer.unref();
  }

  /** Commits the handled positions; a refused commit is scheduled again (unless closing). */
  private async commit(): Promise<void> {
    try {
      await this.positions?.commit();
    } catch (err) {
      const { group, topic } = this.params;
      console.warn(`[bus] committing offsets of group ${group} on ${topic} failed (retried): ${errorMessage(err)}`);
      if (!this.closing) this.scheduleCommit();
    }
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }: EachBatchPayload): Promise<void> {
    if (this.closing) return;
    this.busy.add(heartbeat);
    // Offsets are resolved for kafkajs (the next fetch position) and remembered for the periodic commit.
    const handled = (offset: string) => {
      resolveOffset(offset);
      this.positions?.handled(batch.partition, offset);
      this.scheduleCommit();
    };
    const { handler, maxBatch } = this.params;
    try {
      // A record holds one envelope or a pack of them; a record's offset is resolved once all of its were handled.
      const records: { offset: string; envelopes: Envelope[] }[] = [];
      for (const message of batch.messages) {
        try {
          records.push({ offset: message.offset, envelopes: decodeRecord(this.params.catalogueTopic, message) });
        } catch (err) {
          // Not envelopes: it can never be handled, so it must not block its partition.
          this.reportUndecodable(`${batch.topic}/${batch.partition}@${message.offset}`, err);
          records.push({ offset: message.offset, envelopes: [] });
        }
      }
      // Redelivered after a failure inside a pack: its envelopes before the failed one were handled already.
      let r = 0;
      let e = 0;
      const resume = this.resumeAt.get(batch.partition);
      if (resume && records[0]?.offset === resume.offset) e = Math.min(resume.index, records[0].envelopes.length);
      this.resumeAt.delete(batch.partition);
      while (r < records.length) {
        if (!isRunning() || isStale()) return;
        const start = { r, e };
        const chunk: Envelope[] = [];
        while (r < records.length && chunk.length < maxBatch) {
          const envs = records[r].envelopes;
          const take = Math.min(envs.length - e, maxBatch - chunk.length);
          for (let i = 0; i < take; i++) chunk.push(envs[e + i]);
          e += take;
          if (e >= envs.length) {
            r++;
            e = 0;
          }
        }
        if (chunk.length > 0) {
          try {
            await handler(chunk);
          } catch (err) {
            const failed = records[start.r];
            if (start.e > 0) this.resumeAt.set(batch.partition, { offset: failed.offset, index: start.e });
            this.retryLater(batch.partition, failed.offset, chunk[0].eventId, pause, err);
            return;
          }
        }
        this.failures.delete(batch.partition);
        // The records finished by this chunk: all before `r` (the one at `r` is done only when `e` is 0).
        if (r > start.r) handled(records[r - 1].offset);
      }
    } finally {
      this.busy.delete(heartbeat);
    }
  }

  private retryLater(partition: number, offset: string, eventId: string, pause: () => () => void, err: unknown): void {
    const failures = (this.failures.get(partition) ?? 0) + 1;
    this.failures.set(partition, failures);
    const delay = redeliveryDelayMs(failures);
    const { topic, group } = this.params;
    console.warn(
      `[bus] ${topic} handler of group ${group} failed on ${eventId} (${topic}/${partition}@${offset}, ` +
        `attempt ${failures}), redelivering in ${delay} ms: ${errorMessage(err)}`,
    );
    const resume = pause();
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      resume();
    }, delay);
    this.retryTimers.add(timer);
  }

  /** One line for the first, then one per thousand: a topic full of foreign messages must not flood the log. */
  private reportUndecodable(where: string, err: unknown): void {
    if (this.undecodable++ % 1000 !== 0) return;
    const reason = errorMessage(err).replace(/\s+/g, ' ').slice(0, 300);
    console.error(`[bus] group ${this.params.group} skipped ${this.undecodable} message(s) that are not envelopes; latest ${where}: ${reason}`);
  }

  private beat(): void {
    const heartbeat = this.busy.values().next().value;
    // A rebalance reported here is handled by kafkajs after the batch; the handler just goes on.
    heartbeat?.().catch(() => undefined);
  }
}
