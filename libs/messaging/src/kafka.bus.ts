import { randomUUID } from 'node:crypto';
import { Envelope, REQUEST_TOPIC_NAMES, Topic, TOPIC_CONFIG, TOPIC_NAMES } from '@chatfn/contracts';
import { Admin, ConfigResourceTypes, ConfigSource, Consumer, EachMessagePayload, IResourceConfig, Kafka, Partitioners, Producer } from 'kafkajs';
import { errorMessage } from './backoff';
import { assertCatalogueTopic } from './catalogue';
import { decodeJson, encodeEnvelope, readHeaders, REPLY_HEADER } from './kafka-codec';
import { commitStartPositions, consumerConfig, ConsumerTuning, waitForJoin } from './kafka-group';
import { KAFKA_LOG_LEVEL, kafkaLogCreator } from './kafka-logger';
import { BatchingProducer } from './kafka-producer';
import { KafkaResponder } from './kafka-responder';
import { KafkaSubscription } from './kafka-subscription';
import { BatchHandler, MessageBus, MessagingError, RawSubscribeOptions, Subscription } from './message-bus';
import { PendingRequests } from './pending-requests';

export interface KafkaBusConfig {
  brokers: string[];
  /** Stable name of this process (host or pod name): its replies come on `chatfn.reply.<instanceId>`. */
  instanceId: string;
  /** kafkajs client id (default `chatfn-<producer>`). */
  clientId?: string;
  /** Partitions of the catalogue and request topics when this bus creates them (default 6). */
  partitions?: number;
  /** Fetch long-poll of subscription consumers (default 500 ms, as request and reply consumers; see MAX_WAIT_MS). */
  subscriptionMaxWaitMs?: number;
  /** A consumer silent this long leaves its group (default 30 s; the broker allows 6 s to 30 min by default). */
  sessionTimeoutMs?: number;
  /** Prefix (`<ns>.`) of every topic and consumer group on the broker; envelopes keep the catalogue's names. */
  namespace?: string;
}

const DEFAULT_PARTITIONS = 6;
const DEFAULT_CONCURRENCY = 8;
/**
 * Fetch long-poll of every consumer: a fetch returns as soon as data comes, whatever this is, so it only sets how
 * often an idle consumer asks again. At 10 ms (request-reply) and 100 ms (subscriptions) an idle all-in-one kept
 * 19% of a core busy and the broker 31%; `npm run bench:bus` shows the same latency at 1 s.
 */
const MAX_WAIT_MS = 500;
const READY_TIMEOUT_MS = 2000;

type BusState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

interface Connected {
  kafka: Kafka;
  admin: Admin;
  producers: Producer[];
  /** Events: idempotent, never gives up, keeps per-key order. */
  events: BatchingProducer;
  /** Requests and replies: a caller waits with a deadline, so sends give up early and never queue behind events. */
  rpc: BatchingProducer;
  replyConsumer: Consumer;
  replyGroup: string;
}

/**
 * The bus on Apache Kafka (kafkajs). Topics are created at start; events are keyed by the envelope key through an
 * idempotent producer with one request in flight, so one key's messages stay in order. Request-reply uses a reply
 * topic per instance and correlation headers; a request with no responder simply times out (Kafka cannot tell).
 */
export class KafkaMessageBus extends MessageBus {
  readonly replyTopic: string;
  private readonly partitions: number;
  private readonly subscriptionTuning: ConsumerTuning;
  private readonly rpcTuning: ConsumerTuning;
  private readonly pending = new PendingRequests();
  private readonly subscriptions = new Set<Subscription>();
  /** Distinguishes this run's requests from those of an earlier run with the same instance id. */
  private readonly runId = randomUUID().slice(0, 8);
  private requestSeq = 0;
  private state: BusState = 'created';
  /** The broker's name of a catalogue topic or a consumer group (the namespace's prefix). */
  private readonly onBroker: (name: string) => string;
  private connected?: Connected;

  constructor(
    producer: string,
    private readonly config: KafkaBusConfig,
  ) {
    super(producer);
    // Topic names allow [A-Za-z0-9._-] and 249 characters.
    const instance = config.instanceId.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 150);
    const ns = config.namespace ?? '';
    this.onBroker = ns ? (name) => `${ns}.${name}` : (name) => name;
    this.replyTopic = this.onBroker(`chatfn.reply.${instance}`);
    this.partitions = config.partitions ?? DEFAULT_PARTITIONS;
    const sessionTimeout = config.sessionTimeoutMs ?? 30_000;
    this.subscriptionTuning = { maxWaitTimeInMs: config.subscriptionMaxWaitMs ?? MAX_WAIT_MS, sessionTimeout };
    this.rpcTuning = { maxWaitTimeInMs: MAX_WAIT_MS, sessionTimeout };
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new MessagingError('BUS_STOPPED', `cannot start a bus that is ${this.state}`);
    this.state = 'starting';
    const kafka = new Kafka({
      clientId: this.config.clientId ?? `chatfn-${this.producer}`,
      brokers: this.config.brokers,
      logLevel: KAFKA_LOG_LEVEL,
      logCreator: kafkaLogCreator,
      connectionTimeout: 3000,
      retry: { initialRetryTime: 100, retries: 8 },
    });
    const admin = kafka.admin();
    const events = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Limiting retries would break the idempotent producer's ordering guarantee; the outbox relay just waits.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5000 },
    });
    // A reply topic may be gone (its requester died and it was cleaned up): that reply must fail, not retry forever.
    const rpc = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 3, initialRetryTime: 50, maxRetryTime: 500 },
    });
    const replyGroup = `${this.replyTopic}.${this.runId}`;
    const replyConsumer = kafka.consumer(consumerConfig(replyGroup, this.rpcTuning));
    try {
      await admin.connect();
      await this.createTopics(admin);
      await Promise.all([events.connect(), rpc.connect()]);
      await this.startReplyConsumer(replyConsumer, admin, replyGroup);
    } catch (err) {
      await Promise.allSettled([replyConsumer.disconnect(), events.disconnect(), rpc.disconnect(), admin.disconnect()]);
      this.state = 'stopped';
      throw err;
    }
    this.connected = {
      kafka,
      admin,
      producers: [events, rpc],
      events: new BatchingProducer(events),
      rpc: new BatchingProducer(rpc),
      replyConsumer,
      replyGroup,
    };
    this.state = 'running';
  }

  /** Closes subscriptions and responders (waiting for their handlers), then rejects requests still waiting. */
  async stop(): Promise<void> {
    const connected = this.connected;
    if (!connected || this.state !== 'running') return;
    this.state = 'stopping';
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await connected.replyConsumer.disconnect();
    this.pending.rejectAll(new MessagingError('BUS_STOPPED', 'the bus stopped before the reply came'));
    this.state = 'stopped';
    await Promise.all(connected.producers.map((p) => p.disconnect()));
    await connected.admin.deleteGroups([connected.replyGroup]).catch(() => undefined);
    await connected.admin.disconnect();
  }

  async ready(): Promise<boolean> {
    if (this.state !== 'running' || !this.connected) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    });
    const described = this.connected.admin.describeCluster().then(
      (cluster) => cluster.brokers.length > 0,
      () => false,
    );
    try {
      return await Promise.race([described, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async publishEnvelopes(envelopes: Envelope[]): Promise<void> {
    const { events } = this.open();
    if (envelopes.length === 0) return;
    // An unknown topic would make the producer retry forever.
    for (const envelope of envelopes) assertCatalogueTopic(envelope.topic);
    await events.send(envelopes.map((envelope) => ({ topic: this.onBroker(envelope.topic), envelope })));
  }

  protected async subscribeRaw(
    topic: string,
    group: string,
    handler: BatchHandler<unknown>,
    opts: RawSubscribeOptions,
  ): Promise<Subscription> {
    const { kafka, admin } = this.open();
    const subscription = await KafkaSubscription.open({
      kafka,
      admin,
      topic: this.onBroker(topic),
      catalogueTopic: topic,
      group: this.onBroker(group),
      handler,
      maxBatch: opts.maxBatch,
      fromBeginning: opts.fromBeginning ?? false,
      concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
      tuning: this.subscriptionTuning,
    });
    return this.track(subscription);
  }

  protected requestRaw(envelope: Envelope, deadlineMs: number): Promise<unknown> {
    const { rpc } = this.open();
    const requestId = `${this.runId}-${++this.requestSeq}`;
    const reply = this.pending.add(requestId, envelope.topic, deadlineMs);
    const message = encodeEnvelope(envelope, {
      [REPLY_HEADER.replyTo]: this.replyTopic,
      [REPLY_HEADER.requestId]: requestId,
      [REPLY_HEADER.deadlineAt]: String(Date.now() + deadlineMs),
    });
    rpc.send([{ topic: this.onBroker(envelope.topic), message }]).catch((err: unknown) => {
      // It reached no responder: callers treat this like a missing responder (their failure policy applies).
      this.pending.reject(requestId, new MessagingError('NO_RESPONDER', `request could not be sent: ${errorMessage(err)}`));
    });
    return reply;
  }

  protected async respondRaw(
    topic: string,
    group: string,
    handler: (envelope: Envelope) => Promise<unknown>,
  ): Promise<Subscription> {
    const { kafka, admin, rpc } = this.open();
    const responder = await KafkaResponder.open({
      kafka,
      admin,
      producer: rpc,
      topic: this.onBroker(topic),
      catalogueTopic: topic,
      group: this.onBroker(group),
      handler,
      partitions: this.partitions,
      tuning: this.rpcTuning,
    });
    return this.track(responder);
  }

  /** Creates the missing topics; one created meanwhile by another instance is fine (createTopics tolerates it). */
  private async createTopics(admin: Admin): Promise<void> {
    const existing = new Set(await admin.listTopics());
    const wanted = [
      ...TOPIC_NAMES.map((topic) => ({
        topic: this.onBroker(topic),
        numPartitions: this.partitions,
        configEntries: configEntries(TOPIC_CONFIG[topic]),
      })),
      ...REQUEST_TOPIC_NAMES.map((topic) => ({ topic: this.onBroker(topic), numPartitions: this.partitions })),
      { topic: this.replyTopic, numPartitions: 1 },
    ];
    const missing = wanted.filter(({ topic }) => !existing.has(topic));
    await this.applyTopicConfig(
      admin,
      TOPIC_NAMES.filter((topic) => TOPIC_CONFIG[topic] && existing.has(this.onBroker(topic))),
    );
    if (missing.length === 0) return;
    try {
      await admin.createTopics({ waitForLeaders: true, topics: missing });
    } catch (err) {
      // kafkajs stops waiting for the leaders when the broker answers "does not host this topic-partition" for a
      // topic it created a moment ago; its metadata catches up shortly after.
      if (!isUnknownTopic(err)) throw err;
      await waitForLeaders(admin, missing.map(({ topic }) => topic));
    }
  }

  /**
   * Topics that existed before their `TOPIC_CONFIG` did (an installation upgraded from a version without it) get the
   * settings they lack. A setting the topic already has of its own — chatfn's, or one an operator set on purpose —
   * is kept. AlterConfigs replaces a topic's whole set of settings, so the topic's other settings go along unchanged.
   * Not being allowed to alter topics (ACLs) is no reason not to start: it is reported and the broker's values stay.
   */
  private async applyTopicConfig(admin: Admin, topics: Topic[]): Promise<void> {
    if (topics.length === 0) return;
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((topic) => ({ type: ConfigResourceTypes.TOPIC, name: this.onBroker(topic) })),
      });
      const changes: IResourceConfig[] = [];
      for (const topic of topics) {
        const name = this.onBroker(topic);
        const resource = described.resources.find((r) => r.resourceName === name);
        if (!resource || resource.errorCode !== 0) continue;
        const own = new Map<string, string>();
        for (const e of resource.configEntries) {
          if (e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive && e.configValue !== null) own.set(e.configName, e.configValue);
        }
        const lacking = Object.entries(TOPIC_CONFIG[topic]!).filter(([key]) => !own.has(key));
        if (lacking.length === 0) continue;
        for (const [key, value] of lacking) own.set(key, value);
        changes.push({ type: ConfigResourceTypes.TOPIC, name, configEntries: [...own].map(([n, value]) => ({ name: n, value })) });
        console.warn(`[bus] topic ${name} lacked ${lacking.map(([k, v]) => `${k}=${v}`).join(', ')}: set now`);
      }
      if (changes.length > 0) await admin.alterConfigs({ validateOnly: false, resources: changes });
    } catch (err) {
      console.warn(`[bus] could not apply the settings of topics ${topics.join(', ')} (they keep the broker's): ${errorMessage(err)}`);
    }
  }

  private async startReplyConsumer(consumer: Consumer, admin: Admin, group: string): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topic: this.replyTopic, fromBeginning: false });
    const joined = waitForJoin(consumer, this.replyTopic);
    // Offsets of a per-run group are worth nothing later: no commit after each reply.
    await consumer.run({ autoCommit: false, eachMessage: (payload) => this.onReply(payload) });
    await commitStartPositions(consumer, admin, group, this.replyTopic, await joined);
  }

  private async onReply({ message }: EachMessagePayload): Promise<void> {
    const headers = readHeaders(message.headers);
    const requestId = headers[REPLY_HEADER.requestId];
    if (!requestId) return;
    const error = headers[REPLY_HEADER.error];
    if (error !== undefined) {
      this.pending.reject(requestId, new MessagingError('REMOTE_ERROR', error));
      return;
    }
    let value: unknown;
    try {
      value = decodeJson(message.value);
    } catch (err) {
      this.pending.reject(requestId, new MessagingError('INVALID_PAYLOAD', `reply is not JSON: ${errorMessage(err)}`));
      return;
    }
    this.pending.resolve(requestId, value);
  }

  private track(subscription: Subscription): Subscription {
    this.subscriptions.add(subscription);
    return {
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  /** Publishing stays possible while stopping: handlers finishing their work may still publish. */
  private open(): Connected {
    if ((this.state === 'running' || this.state === 'stopping') && this.connected) return this.connected;
    throw new MessagingError('BUS_STOPPED', `the bus is ${this.state === 'created' ? 'not started' : this.state}`);
  }
}

function isUnknownTopic(err: unknown): boolean {
  const e = err as { type?: string; cause?: { type?: string } } | undefined;
  return e?.type === 'UNKNOWN_TOPIC_OR_PARTITION' || e?.cause?.type === 'UNKNOWN_TOPIC_OR_PARTITION';
}

/** Polls the topics' metadata until every partition has a leader (about 10 s at most, then the last error). */
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (found.length === topics.length && found.every((t) => t.partitions.every((p) => p.leader >= 0))) return;
      if (attempt >= 50) throw new Error(`topics without leaders after ${attempt} checks: ${topics.join(', ')}`);
    } catch (err) {
      if (attempt >= 50) throw err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function configEntries(config: Record<string, string> | undefined): { name: string; value: string }[] | undefined {
  return config && Object.entries(config).map(([name, value]) => ({ name, value }));
}
