import { Envelope } from '@chatfn/contracts';
import { EventStore } from './event-store';
import { OutboxRelay } from './outbox-relay';
import { RecordingBus } from './testing/recording-bus';
import { migratedDatabase } from './testing/test-database';
import { testEnvelope } from './testing/test-envelopes';
import { until } from './testing/until';

const TRANSACTIONS = 6_000;
const WRITERS = 24;
const CHANNELS = 100;

/** Records when each envelope reached the bus, to report commit-to-publish latency. */
class TimingBus extends RecordingBus {
  readonly receivedAt = new Map<string, number>();

  override async publishEnvelopes(envelopes: Envelope[]): Promise<void> {
    await super.publishEnvelopes(envelopes);
    const now = performance.now();
    for (const e of envelopes) this.receivedAt.set(e.eventId, now);
  }
}

describe('append + enqueue + relay throughput (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;

  beforeAll(async () => {
    db = await migratedDatabase('es_throughput');
  });
  afterAll(() => db?.close());

  it(`relays ${TRANSACTIONS} chat-like transactions (1 channel event + 2 outbox rows each)`, async () => {
    const store = new EventStore(db.dataSource);
    const bus = new TimingBus();
    const relay = new OutboxRelay(db.dataSource, bus, { logger: { log: () => {}, error: console.error } });
    const committedAt = new Map<string, number>();
    const sentTogether: [string, string][] = [];
    let started = 0;
    let written = 0;
    let relayed = 0;

    await relay.start();
    try {
      await until(() => relay.status().leader, 'the relay to lead');
      let next = 0;
      started = performance.now();
      // Like chat: each message appends to its channel's stream ('any') and enqueues envelopes keyed by channel, in
      // one statement.
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          for (let i = next++; i < TRANSACTIONS; i = next++) {
            const channel = `channel-${i % CHANNELS}`;
            const envelopes = [testEnvelope(channel, { message: i }), testEnvelope(channel, { notification: i })];
            await store.transaction((m) =>
              store.append(m, channel, 'any', [{ type: 'MessageSent', data: { i } }], { enqueue: envelopes }),
            );
            const now = performance.now();
            for (const e of envelopes) committedAt.set(e.eventId, now);
            sentTogether.push([envelopes[0].eventId, envelopes[1].eventId]);
          }
        }),
      );
      written = performance.now();
      await until(() => bus.published.length >= TRANSACTIONS * 2, 'every envelope to be published', 60_000);
      relayed = performance.now();
    } finally {
      await relay.stop();
    }

    const latencies = [...committedAt].map(([id, at]) => Math.max(0, bus.receivedAt.get(id)! - at)).sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(1);
    const rate = (ms: number) => ((TRANSACTIONS / ms) * 1000).toFixed(0);
    console.log(
      `[event-store throughput] ${TRANSACTIONS} tx (${TRANSACTIONS * 2} envelopes), ${WRITERS} writers, ` +
        `${CHANNELS} channels: commits ${rate(written - started)} tx/s, end to end ${rate(relayed - started)} tx/s; ` +
        `commit→publish latency p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms; ${bus.calls} publish calls`,
    );

    // Writers share channels, so one channel's transactions are concurrent and may commit in any order; what must
    // hold is exactly-once here (no failures), each transaction's own order, and every channel event stored.
    expect(new Set(bus.published.map((e) => e.eventId)).size).toBe(TRANSACTIONS * 2);
    const index = new Map(bus.published.map((e, i) => [e.eventId, i]));
    for (const [message, notification] of sentTogether) {
      expect(index.get(message)!).toBeLessThan(index.get(notification)!);
    }
    const [{ n }]: { n: number }[] = await db.dataSource.query('SELECT count(*)::int AS n FROM events');
    expect(n).toBe(TRANSACTIONS);
  });
});
