import { Envelope } from '@chatfn/contracts';
import { Admin, Consumer, EachMessagePayload, Kafka, Message } from 'kafkajs';
import { errorMessage } from './backoff';
import { decodeEnvelope, readHeaders, REPLY_HEADER } from './kafka-codec';
import { commitStartPositions, consumerConfig, ConsumerTuning, HandledPositions, waitForJoin } from './kafka-group';
import { BatchingProducer } from './kafka-producer';
import { Subscription } from './message-bus';

export interface KafkaResponderParams {
  kafka: Kafka;
  admin: Admin;
  producer: BatchingProducer;
  /** The topic on the broker (namespaced). */
  topic: string;
  /** Its name in the catalogue: the topic of the envelopes handed over. */
  catalogueTopic: string;
  group: string;
  handler: (envelope: Envelope) => Promise<unknown>;
  partitions: number;
  tuning: ConsumerTuning;
}

/** Requests answered at once by one member; beyond this the member stops taking new ones. */
const MAX_IN_FLIGHT = 256;
/** A request this late has no caller left: skip it (the grace allows for some clock skew between hosts). */
const STALE_GRACE_MS = 1000;
const HEARTBEAT_TICK_MS = 1000;
/** Positions are committed on a timer, not after each fetch: a commit round trip there would delay the next request. */
const COMMIT_INTERVAL_MS = 1000;

/**
 * A responder group member on a request topic. Each request is handed to a tracked task at once (requests need
 * no order, and a slow function must neither hold up the others nor the heartbeat); the task sends the reply, or
 * the error in the `error` header, to the requester's reply topic. A request is not redelivered if the process
 * dies while answering it: its caller times out instead.
 */
export class KafkaResponder implements Subscription {
  private readonly consumer: Consumer;
  private readonly tasks = new Set<Promise<void>>();
  /** Requests taken (read), committed on a timer. */
  private positions?: HandledPositions;
  private commitTimer?: NodeJS.Timeout;
  private closing?: Promise<void>;

  private constructor(private readonly params: KafkaResponderParams) {
    this.consumer = params.kafka.consumer(consumerConfig(params.group, params.tuning));
  }

  static async open(params: KafkaResponderParams): Promise<KafkaResponder> {
    const responder = new KafkaResponder(params);
    try {
      await responder.start();
    } catch (err) {
      await responder.close();
      throw err;
    }
    return responder;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.commitTimer);
      await this.commit();
      await this.consumer.disconnect();
      while (this.tasks.size > 0) await Promise.all(this.tasks);
    })();
    return this.closing;
  }

  private async start(): Promise<void> {
    const { admin, topic, group, partitions } = this.params;
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: false });
    const joined = waitForJoin(this.consumer, topic);
    this.positions = new HandledPositions(this.consumer, topic);
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.max(1, partitions),
      eachMessage: (payload) => this.accept(payload),
    });
    await commitStartPositions(this.consumer, admin, group, topic, await joined);
    this.commitTimer = setInterval(() => void this.commit(), COMMIT_INTERVAL_MS);
    this.commitTimer.unref();
  }

  private async commit(): Promise<void> {
    // A refusal comes during a rebalance; the next tick commits again (an uncommitted request is at worst skipped as stale).
    await this.positions?.commit().catch(() => undefined);
  }

  private async accept({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    this.positions?.handled(partition, message.offset);
    const headers = readHeaders(message.headers);
    const replyTo = headers[REPLY_HEADER.replyTo];
    const requestId = headers[REPLY_HEADER.requestId];
    if (!replyTo || !requestId) {
      console.error(`[bus] skipping request without replyTo/requestId ${topic}/${partition}@${message.offset}`);
      return;
    }
    const deadlineAt = Number(headers[REPLY_HEADER.deadlineAt]);
    if (deadlineAt > 0 && Date.now() > deadlineAt + STALE_GRACE_MS) return;

    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(this.params.catalogueTopic, message, headers);
    } catch (err) {
      await this.reply(replyTo, { value: null, headers: { [REPLY_HEADER.requestId]: requestId, [REPLY_HEADER.error]: `undecodable request: ${errorMessage(err)}` } });
      return;
    }
    while (this.tasks.size >= MAX_IN_FLIGHT) {
      await Promise.race([...this.tasks, delay(HEARTBEAT_TICK_MS)]);
      await heartbeat().catch(() => undefined);
    }
    const task = this.answer(envelope, replyTo, requestId).finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }

  private async answer(envelope: Envelope, replyTo: string, requestId: string): Promise<void> {
    let message: Message;
    try {
      const result = await this.params.handler(envelope);
      message = { value: JSON.stringify(result ?? null), headers: { [REPLY_HEADER.requestId]: requestId } };
    } catch (err) {
      message = { value: null, headers: { [REPLY_HEADER.requestId]: requestId, [REPLY_HEADER.error]: errorMessage(err) } };
    }
    await this.reply(replyTo, message);
  }

  private async reply(replyTo: string, message: Message): Promise<void> {
    try {
      await this.params.producer.send([{ topic: replyTo, message }]);
    } catch (err) {
      console.error(`[bus] could not send a reply to ${replyTo}: ${errorMessage(err)}`);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
