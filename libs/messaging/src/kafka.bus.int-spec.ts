import { randomUUID } from 'node:crypto';
import { ChatEventPayload, Envelope } from '@chatfn/contracts';
import { ConfigResourceTypes, ConfigSource, Kafka, logLevel } from 'kafkajs';
import { runBusContract, waitFor } from './bus.contract';
import { encodeEnvelope } from './kafka-codec';
import { KafkaMessageBus } from './kafka.bus';

function brokers(): string[] {
  const list = process.env.KAFKA_BROKERS?.split(',').filter(Boolean) ?? [];
  if (list.length === 0) throw new Error('KAFKA_BROKERS is not set (the integration tier’s global setup provides it)');
  return list;
}

runBusContract(
  'kafka',
  async () => {
    const bus = new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `contract-${randomUUID().slice(0, 8)}` });
    await bus.start();
    return bus;
  },
  { detectsMissingResponder: false, slackMs: 500 },
);

describe('KafkaMessageBus', () => {
  it('is ready while the broker answers', async () => {
    const bus = new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `ready-${randomUUID().slice(0, 8)}` });
    expect(await bus.ready()).toBe(false);
    await bus.start();
    try {
      expect(await bus.ready()).toBe(true);
    } finally {
      await bus.stop();
    }
    expect(await bus.ready()).toBe(false);
  });

  it('fails to start, and says why, when no broker answers', async () => {
    const bus = new KafkaMessageBus('contract-test', { brokers: ['127.0.0.1:1'], instanceId: 'nobody' });
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined); // one line per connection retry
    try {
      await expect(bus.start()).rejects.toThrow(/ECONNREFUSED|connect/i);
    } finally {
      quiet.mockRestore();
    }
    expect(await bus.ready()).toBe(false);
  }, 60_000);

  it('keeps a member whose handler outlasts the session timeout in its group: no redelivery', async () => {
    const run = randomUUID().slice(0, 8);
    const bus = new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `long-${run}`, sessionTimeoutMs: 6000 });
    await bus.start();
    try {
      const event = (n: number): ChatEventPayload => ({ applicationId: 1, type: 'long', depth: 0, data: { run, n } });
      const calls: number[] = [];
      await bus.subscribe('chat.event.recorded.v1', `long-${run}`, async (env) => {
        if (env.payload.data.run !== run) return;
        calls.push(env.payload.data.n as number);
        // Simulates a handler running longer than the session timeout: without heartbeats meanwhile, the member
        // would be dropped, its commit refused, and the message delivered again.
        if (env.payload.data.n === 1) await new Promise((resolve) => setTimeout(resolve, 9000));
      });
      await bus.publish('chat.event.recorded.v1', event(1), { key: run });
      await bus.publish('chat.event.recorded.v1', event(2), { key: run });

      await waitFor(() => calls.includes(2), 30_000);
      expect(calls).toEqual([1, 2]);
    } finally {
      await bus.stop();
    }
  }, 60_000);

  describe('packed records', () => {
    const CHAT = 'chat.event.recorded.v1';
    let bus: KafkaMessageBus;
    let kafka: Kafka;
    beforeAll(async () => {
      bus = new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `packed-${randomUUID().slice(0, 8)}` });
      await bus.start();
      kafka = new Kafka({ clientId: 'packed-test', brokers: brokers(), logLevel: logLevel.NOTHING });
    }, 60_000);
    afterAll(async () => {
      await bus?.stop();
    }, 60_000);
    const event = (run: string, n: number): ChatEventPayload => ({ applicationId: 1, type: 'packed', depth: 0, data: { run, n } });
    const mine = (env: Envelope<ChatEventPayload>, run: string) => env.payload.data.run === run;

    /** The raw records of the chat topic whose key is `key`, read from the beginning with plain kafkajs. */
    async function rawRecords(key: string, atLeast: number): Promise<{ value: string; headers: number }[]> {
      const consumer = kafka.consumer({ groupId: `raw-${randomUUID().slice(0, 8)}` });
      const seen: { value: string; headers: number }[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: CHAT, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() === key) seen.push({ value: message.value!.toString(), headers: Object.keys(message.headers ?? {}).length });
        },
      });
      try {
        await waitFor(() => seen.length >= atLeast, 30_000);
        await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
      } finally {
        await consumer.disconnect();
      }
      return seen;
    }

    it('sends the envelopes of one key published together as one record, delivered one by one in order', async () => {
      const run = randomUUID().slice(0, 8);
      const key = `pack-${run}`;
      const got: number[] = [];
      const sub = await bus.subscribe(CHAT, `pack-${run}`, async (env) => {
        if (mine(env, run)) got.push(env.payload.data.n as number);
      });
      try {
        const envs = Array.from({ length: 50 }, (_, n) => bus.envelope(CHAT, event(run, n), { key }));
        await bus.publishEnvelopes(envs);
        await waitFor(() => got.length === 50, 30_000);
        expect(got).toEqual(Array.from({ length: 50 }, (_, n) => n));
        const records = await rawRecords(key, 1);
        expect(records).toHaveLength(1);
        expect(records[0].headers).toBe(0);
        const doc = JSON.parse(records[0].value) as { chatfn: number; envelopes: { eventId: string; payload: ChatEventPayload }[] };
        expect(doc.chatfn).toBe(1);
        expect(doc.envelopes.map((e) => e.eventId)).toEqual(envs.map((e) => e.eventId));
      } finally {
        await sub.close();
      }
    }, 90_000);

    it('redelivers a pack from the envelope whose handler threw: the ones before it are not handled twice', async () => {
      const run = randomUUID().slice(0, 8);
      const key = `retry-${run}`;
      const got: number[] = [];
      let failuresLeft = 2;
      const sub = await bus.subscribe(CHAT, `retry-${run}`, async (env) => {
        if (!mine(env, run)) return;
        const n = env.payload.data.n as number;
        got.push(n);
        if (n === 3 && failuresLeft-- > 0) throw new Error('transient failure (expected by the test)');
      });
      try {
        await bus.publishEnvelopes(Array.from({ length: 6 }, (_, n) => bus.envelope(CHAT, event(run, n), { key })));
        await waitFor(() => got.includes(5), 30_000);
        expect(got).toEqual([0, 1, 2, 3, 3, 3, 4, 5]);
      } finally {
        await sub.close();
      }
    }, 90_000);

    it('commits what a member handled when it closes: the next member of its group starts after it', async () => {
      const run = randomUUID().slice(0, 8);
      const group = `commit-${run}`;
      const first: number[] = [];
      const sub = await bus.subscribe(CHAT, group, async (env) => void (mine(env, run) && first.push(env.payload.data.n as number)));
      for (let n = 0; n < 5; n++) await bus.publish(CHAT, event(run, n), { key: `c-${run}-${n}` });
      await waitFor(() => first.length === 5, 30_000);
      await sub.close(); // well within the commit interval: the close itself must commit
      const second: number[] = [];
      const next = await bus.subscribe(CHAT, group, async (env) => void (mine(env, run) && second.push(env.payload.data.n as number)), {
        fromBeginning: true,
      });
      try {
        await bus.publish(CHAT, event(run, 5), { key: `c-${run}-0` });
        await waitFor(() => second.includes(5), 30_000);
        await new Promise((r) => setTimeout(r, 500));
        expect(second).toEqual([5]);
      } finally {
        await next.close();
      }
    }, 90_000);

    it('still reads records of one envelope with its meta in headers (as written before packing), and skips foreign ones', async () => {
      const run = randomUUID().slice(0, 8);
      const key = `legacy-${run}`;
      const got: Envelope<ChatEventPayload>[] = [];
      const sub = await bus.subscribeBatch(CHAT, `legacy-${run}`, async (envs) => {
        for (const env of envs) if (mine(env, run)) got.push(env);
      });
      const producer = kafka.producer();
      const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        await producer.connect();
        const legacy = bus.envelope(CHAT, event(run, 1), { key });
        await producer.send({ topic: CHAT, messages: [{ key, value: 'not an envelope' }, encodeEnvelope(legacy)] });
        await bus.publish(CHAT, event(run, 2), { key });
        await waitFor(() => got.length === 2, 30_000);
        expect(got.map((e) => e.payload.data.n)).toEqual([1, 2]);
        expect(got[0]).toEqual(legacy);
      } finally {
        quiet.mockRestore();
        await producer.disconnect();
        await sub.close();
      }
    }, 90_000);
  });

  it('gives a topic made before its settings existed the settings it lacks, keeping the ones of its own', async () => {
    const run = randomUUID().slice(0, 8);
    const EPHEMERAL = 'gateway.ephemeral.published.v1';
    const admin = new Kafka({ clientId: 'cfg-test', brokers: brokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const settings = async (topic: string) => {
      const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
      const own: Record<string, string> = {};
      for (const e of resources[0].configEntries) if (e.configSource === ConfigSource.TOPIC_CONFIG) own[e.configName] = e.configValue;
      return own;
    };
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      // As an installation from before the retention setting has it: no retention of its own, an operator's
      // segment.ms (one of chatfn's keys) and max.message.bytes (not one of them).
      const old = `old-${run}`;
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: `${old}.${EPHEMERAL}`, numPartitions: 6, configEntries: [{ name: 'segment.ms', value: '120000' }, { name: 'max.message.bytes', value: '2000000' }] }],
      });
      for (let start = 1; start <= 2; start++) {
        const bus = new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `cfg-${run}-${start}`, namespace: old });
        await bus.start();
        await bus.stop();
        expect(await settings(`${old}.${EPHEMERAL}`)).toEqual({ 'retention.ms': '60000', 'segment.ms': '120000', 'max.message.bytes': '2000000' });
      }
      // Said once, when it was set; the second start found nothing lacking.
      expect(warn.mock.calls.filter(([m]) => String(m).includes(`${old}.${EPHEMERAL} lacked retention.ms=60000`))).toHaveLength(1);

      // A topic the bus creates gets them at creation.
      const fresh = `fresh-${run}`;
      const bus = new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `cfg-${run}-f`, namespace: fresh });
      await bus.start();
      await bus.stop();
      expect(await settings(`${fresh}.${EPHEMERAL}`)).toEqual({ 'retention.ms': '60000', 'segment.ms': '60000' });
      expect(await settings(`${fresh}.chat.event.recorded.v1`)).toEqual({});
    } finally {
      warn.mockRestore();
      await admin.disconnect();
    }
  }, 90_000);

  it('keeps installations with different namespaces apart on one broker', async () => {
    const run = randomUUID().slice(0, 8);
    const [a, b] = ['a', 'b'].map(
      (ns) => new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `ns-${ns}-${run}`, namespace: `ns${ns}-${run}` }),
    );
    await a.start();
    await b.start();
    try {
      const got: Record<string, number[]> = { a: [], b: [] };
      for (const [name, bus] of [['a', a], ['b', b]] as const) {
        // The same group name on both: each namespace has its own.
        await bus.subscribe('chat.event.recorded.v1', 'same-group', async (env) => {
          if (env.payload.data.run === run) got[name].push(env.payload.data.n as number);
        });
      }
      const reply = await b.respond('executor.execution.requested.v1', 'responders', async () => ({ outcome: 'no-function', logs: '', durationMs: 0 }));
      await a.publish('chat.event.recorded.v1', { applicationId: 1, type: 'ns', depth: 0, data: { run, n: 1 } }, { key: run });
      await b.publish('chat.event.recorded.v1', { applicationId: 1, type: 'ns', depth: 0, data: { run, n: 2 } }, { key: run });
      await waitFor(() => got.a.length > 0 && got.b.length > 0, 30_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(got).toEqual({ a: [1], b: [2] });
      // a's request reaches no responder of b's namespace.
      const req = { applicationId: 1, triggerType: 'user.attempted.send_message', deadlineMs: 300, depth: 0, event: {} };
      await expect(a.request('executor.execution.requested.v1', req, { deadlineMs: 300 })).rejects.toThrow();
      await expect(b.request('executor.execution.requested.v1', req, { deadlineMs: 10_000 })).resolves.toMatchObject({ outcome: 'no-function' });
      await reply.close();
      const admin = new Kafka({ clientId: 'ns-test', brokers: brokers(), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const topics = await admin.listTopics();
      await admin.disconnect();
      expect(topics).toEqual(expect.arrayContaining([`nsa-${run}.chat.event.recorded.v1`, `nsb-${run}.chat.event.recorded.v1`]));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 90_000);
});
