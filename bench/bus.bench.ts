/**
 * `npm run bench:bus` — latency and throughput of both MessageBus transports, beside a raw kafkajs baseline
 * (plain producer and consumer, no envelope, same broker) measured in the same run.
 *
 * Uses KAFKA_BROKERS when set; otherwise starts a broker with scripts/infra/kafka-start.sh on free ports and stops
 * it at the end. Prints a table and writes bench-results/bus.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { ChatEventPayload } from '@chatfn/contracts';
import { InProcessMessageBus, KafkaMessageBus, MessageBus } from '@chatfn/messaging';
import { Admin, Consumer, EachMessageHandler, Kafka, Partitioners, Producer } from 'kafkajs';
import { KAFKA_LOG_LEVEL, kafkaLogCreator } from '../libs/messaging/src/kafka-logger';
import { benchBroker } from './bench-kafka';

const CHAT = 'chat.event.recorded.v1';
const EXECUTION = 'executor.execution.requested.v1';
const REPO_ROOT = resolve(__dirname, '../..');

interface Sizes {
  warmup: number;
  /** Latency samples per probe. */
  samples: number;
  throughputMessages: number;
}
const SIZES: Record<'inProcess' | 'kafka', Sizes> = {
  inProcess: { warmup: 2000, samples: 20_000, throughputMessages: 100_000 },
  kafka: { warmup: 300, samples: 2000, throughputMessages: 50_000 },
};
const ROUNDS = 10;
const PUBLISH_WINDOW = 1000;
/** Request-reply p99 targets (ms). */
const TARGETS: Record<string, number> = { 'in-process': 0.2, kafka: 10 };

interface Row {
  transport: string;
  measure: string;
  n: number;
  p50Ms?: number;
  p99Ms?: number;
  meanMs?: number;
  msgsPerSec?: number;
  target?: string;
  meetsTarget?: boolean;
}

async function main(): Promise<void> {
  const broker = await benchBroker();
  const rows: Row[] = [];
  try {
    rows.push(...(await benchInProcess()));
    rows.push(...(await benchKafka(broker.brokers)));
  } finally {
    await broker.stop();
  }

  console.table(rows);
  const dir = join(REPO_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const report = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageAtEnd: loadavg() },
    broker: broker.started ? 'started by the bench (scripts/infra/kafka-start.sh)' : 'KAFKA_BROKERS',
    method:
      'latencies: sequential, one message or request at a time, after warm-up; Kafka bus and raw kafkajs probes ' +
      `interleaved in ${ROUNDS} rounds so that both see the same machine load. Throughput: N messages published in ` +
      `windows of ${PUBLISH_WINDOW}, timed until all are consumed.`,
    targetsRequestReplyP99Ms: TARGETS,
    rows,
  };
  writeFileSync(join(dir, 'bus.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${join(dir, 'bus.json')}`);
}

async function benchInProcess(): Promise<Row[]> {
  const sizes = SIZES.inProcess;
  const bus = new InProcessMessageBus('bench');
  await bus.start();
  try {
    const probes = [await busRequestProbe(bus, 'in-process'), await busDeliveryProbe(bus, 'in-process')];
    const rows = await measure(probes, sizes);
    for (const probe of probes) await probe.close();
    rows.push(await busThroughput(bus, 'in-process', sizes.throughputMessages));
    return rows;
  } finally {
    await bus.stop();
  }
}

async function benchKafka(brokers: string[]): Promise<Row[]> {
  const sizes = SIZES.kafka;
  const bus = new KafkaMessageBus('bench', { brokers, instanceId: `bench-${uid()}` });
  await bus.start();
  const raw = await RawKafka.open(brokers);
  try {
    const probes = [
      await busRequestProbe(bus, 'kafka'),
      raw.pingPongProbe(),
      await busDeliveryProbe(bus, 'kafka'),
      raw.deliveryProbe(),
    ];
    const rows = await measure(probes, sizes);
    for (const probe of probes) await probe.close();
    rows.push(await busThroughput(bus, 'kafka', sizes.throughputMessages));
    rows.push(await raw.throughput(sizes.throughputMessages, false));
    rows.push(await raw.throughput(sizes.throughputMessages, true));
    return rows;
  } finally {
    await raw.close();
    await bus.stop();
  }
}

// ---- latency probes ---------------------------------------------------------------------------------------------

interface Probe {
  transport: string;
  measure: string;
  /** One sequential sample, in ms. */
  sample(n: number): Promise<number>;
  close(): Promise<void>;
}

async function measure(probes: Probe[], sizes: Sizes): Promise<Row[]> {
  const samples = probes.map(() => [] as number[]);
  for (const probe of probes) for (let n = 0; n < sizes.warmup; n++) await probe.sample(n);
  const perRound = Math.ceil(sizes.samples / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, probe] of probes.entries()) {
      for (let n = 0; n < perRound; n++) samples[i].push(await probe.sample(round * perRound + n));
    }
  }
  return probes.map((probe, i) => {
    const stats = summarize(samples[i]);
    const row: Row = { transport: probe.transport, measure: probe.measure, n: samples[i].length, ...stats };
    const target = probe.measure === REQUEST_REPLY ? TARGETS[probe.transport] : undefined;
    return target === undefined ? row : { ...row, target: `p99 ≤ ${target} ms`, meetsTarget: stats.p99Ms <= target };
  });
}

const REQUEST_REPLY = 'request-reply round trip';

async function busRequestProbe(bus: MessageBus, transport: string): Promise<Probe> {
  const responder = await bus.respond(EXECUTION, `bench-${uid()}`, async (env) => ({
    outcome: 'ran',
    result: env.payload.event.n,
    logs: '',
    durationMs: 0,
  }));
  return {
    transport,
    measure: REQUEST_REPLY,
    sample: async (n) => {
      const t0 = performance.now();
      await bus.request(
        EXECUTION,
        { applicationId: 1, triggerType: 'user.attempted.send_message', event: { n }, deadlineMs: 5000 },
        { deadlineMs: 5000 },
      );
      return performance.now() - t0;
    },
    close: () => responder.close(),
  };
}

async function busDeliveryProbe(bus: MessageBus, transport: string): Promise<Probe> {
  let arrived: (() => void) | undefined;
  const subscription = await bus.subscribe(CHAT, `bench-latency-${uid()}`, async () => arrived?.());
  return {
    transport,
    measure: DELIVERY,
    sample: async (n) => {
      const consumed = new Promise<void>((resolve) => (arrived = resolve));
      const t0 = performance.now();
      await bus.publish(CHAT, chatEvent(n), { key: `k${n % 16}` });
      await consumed;
      return performance.now() - t0;
    },
    close: () => subscription.close(),
  };
}

const DELIVERY = 'publish → consume latency';

async function busThroughput(bus: MessageBus, transport: string, total: number): Promise<Row> {
  let consumed = 0;
  let allConsumed!: () => void;
  const done = new Promise<void>((resolve) => (allConsumed = resolve));
  const subscription = await bus.subscribe(
    CHAT,
    `bench-throughput-${uid()}`,
    async () => {
      if (++consumed === total) allConsumed();
    },
    { concurrency: 8 },
  );
  const t0 = performance.now();
  // At most one window of publishes outstanding, as a relay or a busy service would have.
  for (let start = 0; start < total; start += PUBLISH_WINDOW) {
    const sends: Promise<unknown>[] = [];
    for (let n = start; n < Math.min(total, start + PUBLISH_WINDOW); n++) sends.push(bus.publish(CHAT, chatEvent(n), { key: `k${n % 64}` }));
    await Promise.all(sends);
  }
  await done;
  const seconds = (performance.now() - t0) / 1000;
  await subscription.close();
  return { transport, measure: 'throughput (publish N, all consumed)', n: total, msgsPerSec: Math.round(total / seconds) };
}

function chatEvent(n: number): ChatEventPayload {
  return { applicationId: 1, type: 'bench', channelId: n % 16, depth: 0, data: { n } };
}

// ---- raw kafkajs baseline ---------------------------------------------------------------------------------------

/** Plain kafkajs: default producer, consumers with autoCommit, JSON values, no headers, no validation. */
class RawKafka {
  private arrived?: () => void;
  private flowCount = 0;
  private flowTarget = 0;
  private flowDone?: () => void;

  private constructor(
    private readonly admin: Admin,
    private readonly producer: Producer,
    private readonly consumers: Consumer[],
    private readonly topics: { ping: string; pong: string; flow: string },
  ) {}

  static async open(brokers: string[]): Promise<RawKafka> {
    const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: KAFKA_LOG_LEVEL, logCreator: kafkaLogCreator });
    const admin = kafka.admin();
    await admin.connect();
    const run = uid();
    const topics = { ping: `bench.raw.ping.${run}`, pong: `bench.raw.pong.${run}`, flow: `bench.raw.flow.${run}` };
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topics.ping, numPartitions: 6 },
        { topic: topics.pong, numPartitions: 1 },
        { topic: topics.flow, numPartitions: 6 },
      ],
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const consumers = [
      kafka.consumer({ groupId: `bench-raw-ping-${run}`, maxWaitTimeInMs: 10 }),
      kafka.consumer({ groupId: `bench-raw-pong-${run}`, maxWaitTimeInMs: 10 }),
      kafka.consumer({ groupId: `bench-raw-flow-${run}`, maxWaitTimeInMs: 100 }),
    ];
    const raw = new RawKafka(admin, producer, consumers, topics);
    const [ping, pong, flow] = consumers;
    // Fresh topics read from their start: no "latest offset" race at join.
    await startConsumer(ping, topics.ping, async ({ message }) => {
      await producer.send({ topic: topics.pong, messages: [{ key: message.key, value: message.value }] });
    });
    await startConsumer(pong, topics.pong, async () => raw.arrived?.());
    await startConsumer(
      flow,
      topics.flow,
      async () => {
        if (++raw.flowCount === raw.flowTarget) raw.flowDone?.();
      },
      8,
    );
    return raw;
  }

  pingPongProbe(): Probe {
    return { transport: 'raw kafkajs', measure: 'ping → pong round trip (request-reply baseline)', sample: (n) => this.roundTrip(this.topics.ping, n), close: async () => undefined };
  }

  deliveryProbe(): Probe {
    return { transport: 'raw kafkajs', measure: 'produce → consume latency', sample: (n) => this.roundTrip(this.topics.pong, n), close: async () => undefined };
  }

  /** With `envelopeHeaders`, each message carries the bus's six envelope headers: what they cost in kafkajs. */
  async throughput(total: number, envelopeHeaders: boolean): Promise<Row> {
    const headers = envelopeHeaders
      ? { eventId: randomUUID(), occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID(), producer: 'bench', schemaVersion: '1' }
      : undefined;
    this.flowCount = 0;
    this.flowTarget = total;
    const done = new Promise<void>((resolve) => (this.flowDone = resolve));
    const t0 = performance.now();
    for (let start = 0; start < total; start += PUBLISH_WINDOW) {
      const messages = [];
      for (let n = start; n < Math.min(total, start + PUBLISH_WINDOW); n++) {
        messages.push({ key: `k${n % 64}`, value: JSON.stringify(chatEvent(n)), headers });
      }
      await this.producer.send({ topic: this.topics.flow, messages });
    }
    await done;
    const seconds = (performance.now() - t0) / 1000;
    const measure = `throughput (send ×${PUBLISH_WINDOW}${envelopeHeaders ? ', with envelope headers' : ''}, all consumed)`;
    return { transport: 'raw kafkajs', measure, n: total, msgsPerSec: Math.round(total / seconds) };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.disconnect()));
    await this.producer.disconnect();
    await this.admin.deleteTopics({ topics: Object.values(this.topics) }).catch(() => undefined);
    await this.admin.disconnect();
  }

  private async roundTrip(topic: string, n: number): Promise<number> {
    const received = new Promise<void>((resolve) => (this.arrived = resolve));
    const t0 = performance.now();
    await this.producer.send({ topic, messages: [{ key: `k${n % 16}`, value: JSON.stringify({ n }) }] });
    await received;
    return performance.now() - t0;
  }
}

async function startConsumer(consumer: Consumer, topic: string, eachMessage: EachMessageHandler, concurrency = 1): Promise<void> {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({ partitionsConsumedConcurrently: concurrency, eachMessage });
  await joined;
}

// ---- helpers ----------------------------------------------------------------------------------------------------

function summarize(samples: number[]): { p50Ms: number; p99Ms: number; meanMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), meanMs: round(mean) };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function uid(): string {
  return randomUUID().slice(0, 8);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
