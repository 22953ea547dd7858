import { Envelope } from '@chatfn/contracts';
import { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { errorMessage, redeliveryDelayMs } from './backoff';
import { decodeEnvelope } from './kafka-codec';
import { commitStartPositions, consumerConfig, ConsumerTuning, waitForJoin } from './kafka-group';
import { BatchHandler, Subscription } from './message-bus';

export interface KafkaSubscriptionParams {
  kafka: Kafka;
  admin: Admin;
  topic: string;
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
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Heartbeat functions of the batches being handled now. */
  private readonly busy = new Set<() => Promise<void>>();
  private heartbeatTicker?: NodeJS.Timeout;
  private undecodable = 0;
  private closing?: Promise<void>;

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
      clearInterval(this.heartbeatTicker);
      await this.consumer.disconnect(); // waits for the batches being handled
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
    await this.consumer.run({
      partitionsConsumedConcurrently: Math.max(1, Math.floor(concurrency)),
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    const partitions = await joined;
    if (!fromBeginning) await commitStartPositions(this.consumer, admin, group, topic, partitions);
    this.heartbeatTicker = setInterval(() => this.beat(), HEARTBEAT_TICK_MS);
    this.heartbeatTicker.unref();
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }: EachBatchPayload): Promise<void> {
    this.busy.add(heartbeat);
    const { handler, maxBatch } = this.params;
    try {
      const messages = batch.messages;
      for (let start = 0; start < messages.length; start += maxBatch) {
        if (!isRunning() || isStale()) return;
        const chunk = messages.slice(start, start + maxBatch);
        const envelopes: Envelope[] = [];
        for (const message of chunk) {
          try {
            envelopes.push(decodeEnvelope(batch.topic, message));
          } catch (err) {
            // Not an envelope: it can never be handled, so it must not block its partition.
            this.reportUndecodable(`${batch.topic}/${batch.partition}@${message.offset}`, err);
          }
        }
        if (envelopes.length > 0) {
          try {
            await handler(envelopes);
          } catch (err) {
            this.retryLater(batch.partition, chunk[0].offset, envelopes[0].eventId, pause, err);
            return;
          }
        }
        this.failures.delete(batch.partition);
        resolveOffset(chunk[chunk.length - 1].offset);
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
