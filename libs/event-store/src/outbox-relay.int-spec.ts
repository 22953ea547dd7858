import { Envelope } from '@chatfn/contracts';
import { DataSource } from 'typeorm';
import { ADVISORY_LOCK_NAMESPACE, OUTBOX_RELAY_LOCK } from './advisory-locks';
import { EventStore } from './event-store';
import { EventStoreErrorCode } from './event-store.error';
import { OutboxRelay, OutboxRelayOptions } from './outbox-relay';
import { RecordingBus } from './testing/recording-bus';
import { migratedDatabase } from './testing/test-database';
import { firstDeliveries, testEnvelope } from './testing/test-envelopes';
import { until } from './testing/until';

const quiet = { log: () => {}, error: () => {} };

describe('OutboxRelay (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let dataSource: DataSource;
  let store: EventStore;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    db = await migratedDatabase('es_relay');
    dataSource = db.dataSource;
    store = new EventStore(dataSource);
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await dataSource.query('DELETE FROM outbox');
  });
  afterAll(() => db?.close());

  function relay(bus: RecordingBus, options: OutboxRelayOptions = {}): OutboxRelay {
    const r = new OutboxRelay(dataSource, bus, { pollIntervalMs: 50, logger: quiet, ...options });
    relays.push(r);
    return r;
  }

  const commit = (envelopes: Envelope[]) => store.transaction((m) => store.enqueue(m, envelopes));
  const ids = (envelopes: Envelope[]) => envelopes.map((e) => e.eventId);

  async function unpublishedCount(): Promise<number> {
    const [{ n }]: { n: number }[] = await dataSource.query(
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
    );
    return n;
  }

  it('publishes a commit at once, without waiting for the poll', async () => {
    const bus = new RecordingBus();
    const r = relay(bus, { pollIntervalMs: 60_000 });
    await r.start();
    await until(() => r.status().leader, 'the relay to lead');
    const env = testEnvelope('k', { n: 1 });
    const committedAt = Date.now();

    await commit([env]);

    await until(() => bus.published.length === 1, 'the envelope to be published', 2_000);
    expect(Date.now() - committedAt).toBeLessThan(1_000);
    expect(bus.published[0]).toEqual(JSON.parse(JSON.stringify(env)));
  });

  it('with a linger, publishes commits made close together in one publish', async () => {
    const bus = new RecordingBus();
    // A linger far longer than three small concurrent commits take, even on a loaded machine.
    const r = relay(bus, { pollIntervalMs: 60_000, lingerMs: 2_000 });
    await r.start();
    await until(() => r.status().leader, 'the relay to lead');
    // A warm-up commit first: leading, the relay runs a round at once (no linger), and a commit landing before that
    // round would be published alone (CI saw 2 publishes). Once the warm-up is out, the relay waits for a commit.
    await commit([testEnvelope('w', { n: 0 })]);
    await until(() => bus.published.length === 1, 'the warm-up envelope to be published', 10_000);
    const callsBefore = bus.calls;
    const envs = [testEnvelope('k', { n: 1 }), testEnvelope('k', { n: 2 }), testEnvelope('j', { n: 3 })];

    await commit([envs[0]]);
    await Promise.all([commit([envs[1]]), commit([envs[2]])]);

    await until(() => bus.published.length === 4, 'the envelopes to be published', 10_000);
    expect(bus.calls - callsBefore).toBe(1);
    const published = bus.published.slice(1);
    expect(ids(published).slice(0, 1)).toEqual(ids(envs).slice(0, 1));
    expect(new Set(ids(published))).toEqual(new Set(ids(envs)));
  });

  it('is woken by the outer commit when the envelopes were written in a nested transaction', async () => {
    const bus = new RecordingBus();
    const r = relay(bus, { pollIntervalMs: 60_000 });
    await r.start();
    await until(() => r.status().leader, 'the relay to lead');
    const env = testEnvelope('k', { nested: true });

    await store.transaction((outer) => outer.transaction((inner) => store.enqueue(inner, [env])));

    await until(() => bus.published.length === 1, 'the envelope to be published', 2_000);
  });

  it('is woken by NOTIFY when the writer is in another process', async () => {
    const bus = new RecordingBus();
    // Connection settings spelled differently from the writer's DataSource: the writer cannot see a relay of its
    // own for that database, as in a process without one.
    const url = new URL(dataSource.options.type === 'postgres' ? dataSource.options.url! : '');
    const r = relay(bus, {
      pollIntervalMs: 60_000,
      connection: {
        host: url.hostname,
        port: Number(url.port),
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.slice(1),
      },
    });
    await r.start();
    await until(() => r.status().leader, 'the relay to lead');

    const env = testEnvelope('k', { n: 1 });
    await commit([env]);

    await until(() => bus.published.length === 1, 'the envelope to be published', 2_000);
  });

  it('publishes nothing from a rolled-back transaction', async () => {
    const bus = new RecordingBus();
    const r = relay(bus);
    await r.start();
    const rolledBack = testEnvelope('k', { n: 'rolled back' });
    const kept = testEnvelope('k', { n: 'kept' });

    await expect(
      store.transaction(async (m) => {
        await store.enqueue(m, [rolledBack]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await commit([kept]);
    await r.flush();

    expect(ids(bus.published)).toEqual([kept.eventId]);
  });

  it('publishes what was committed while no relay ran, once one starts', async () => {
    const envs = [testEnvelope('a', { n: 1 }), testEnvelope('b', { n: 2 })];
    await commit(envs);
    const bus = new RecordingBus();
    const r = relay(bus);

    await r.start();
    await r.flush();

    expect(ids(bus.published)).toEqual(ids(envs));
    expect(await unpublishedCount()).toBe(0);
  });

  it('leaves rows for the next relay when its bus fails, and that relay publishes them', async () => {
    const broken = new RecordingBus();
    broken.failNext = Number.MAX_SAFE_INTEGER;
    const first = relay(broken, { retry: { initialMs: 10, maxMs: 20 } });
    await first.start();
    const envs = [testEnvelope('k', { n: 1 }), testEnvelope('k', { n: 2 })];
    await commit(envs);
    await until(() => first.status().consecutiveFailures >= 2, 'the first relay to fail');
    await first.stop();
    expect(await unpublishedCount()).toBe(2);

    const bus = new RecordingBus();
    const second = relay(bus);
    await second.start();
    await second.flush();

    expect(ids(bus.published)).toEqual(ids(envs));
  });

  it('publishes after the leader dies mid-publish (its session ends, another relay takes over)', async () => {
    const stuck = new RecordingBus().hold();
    const dying = relay(stuck);
    await dying.start();
    await until(() => dying.status().leader, 'the first relay to lead');
    const survivorBus = new RecordingBus();
    const survivor = relay(survivorBus);
    await survivor.start();
    const env = testEnvelope('k', { n: 1 });

    await commit([env]);
    await until(() => stuck.calls > 0, 'the leader to be publishing');
    expect(survivor.status().leader).toBe(false);
    await killLeaderSession();

    await until(() => survivorBus.published.length === 1, 'the survivor to publish');
    expect(ids(survivorBus.published)).toEqual([env.eventId]);
    expect(survivor.status().leader).toBe(true);
    stuck.unhold();
    await dying.stop();
    await survivor.flush();
    expect(await unpublishedCount()).toBe(0);
  });

  it('delivers everything, in order, when the bus fails once and then recovers', async () => {
    const bus = new RecordingBus();
    bus.failNext = 1;
    const r = relay(bus, { retry: { initialMs: 10, maxMs: 50 } });
    const envs = Array.from({ length: 5 }, (_, n) => testEnvelope('k', { n }));
    await commit(envs);

    await r.start();
    await r.flush();

    expect(bus.calls).toBeGreaterThanOrEqual(2);
    expect(ids(bus.published)).toEqual(ids(envs));
  });

  it('keeps per-key order over many interleaved transactions and small batches', async () => {
    const bus = new RecordingBus();
    const r = relay(bus, { batchSize: 7 });
    await r.start();

    const sent = await writeInterleaved(12, 40);
    await r.flush();

    expect(ids(bus.published).sort()).toEqual(ids(sent.flat()).sort());
    for (const keySent of sent) {
      const key = keySent[0].key;
      expect(ids(bus.published.filter((e) => e.key === key))).toEqual(ids(keySent));
    }
  });

  it('keeps per-key order (first deliveries) across a leader failover, with only the leader publishing', async () => {
    const broker: Envelope[] = [];
    const busA = new RecordingBus(broker);
    const busB = new RecordingBus(broker);
    const a = relay(busA, { batchSize: 5 });
    const b = relay(busB, { batchSize: 5 });
    await a.start();
    await until(() => a.status().leader, 'a to lead');
    await b.start();

    const writing = writeInterleaved(8, 40);
    await until(() => broker.length > 50, 'some messages through a');
    expect(busB.calls).toBe(0);
    // a's process dies: its session ends and it does not come back.
    await killLeaderSession();
    await a.stop();
    const sent = await writing;
    await b.flush();

    expect(busB.calls).toBeGreaterThan(0);
    const delivered = firstDeliveries(broker);
    expect(ids(delivered).sort()).toEqual(ids(sent.flat()).sort());
    for (const keySent of sent) {
      expect(ids(delivered.filter((e) => e.key === keySent[0].key))).toEqual(ids(keySent));
    }
  });

  it('deletes rows on publish when retention is 0, and after the retention otherwise', async () => {
    const deleting = relay(new RecordingBus(), { retentionMs: 0 });
    await deleting.start();
    await commit([testEnvelope('k', { n: 1 })]);
    await deleting.flush();
    expect(await dataSource.query('SELECT id FROM outbox')).toEqual([]);
    await deleting.stop();

    const keeping = relay(new RecordingBus(), { retentionMs: 300, cleanupIntervalMs: 20, pollIntervalMs: 20 });
    await keeping.start();
    await commit([testEnvelope('k', { n: 2 })]);
    await keeping.flush();
    const kept: { published_at: Date | null }[] = await dataSource.query('SELECT published_at FROM outbox');
    expect(kept).toHaveLength(1);
    expect(kept[0].published_at).toBeInstanceOf(Date);
    await until(async () => (await dataSource.query('SELECT id FROM outbox')).length === 0, 'the cleanup');
  });

  it('refuses to flush when it is not running', async () => {
    const r = relay(new RecordingBus());
    await expect(r.flush()).rejects.toMatchObject({ code: EventStoreErrorCode.RELAY_NOT_RUNNING });
    await r.start();
    await r.stop();
    await expect(r.flush()).rejects.toMatchObject({ code: EventStoreErrorCode.RELAY_NOT_RUNNING });
  });

  /** What a crashed relay process amounts to for the server: the lock holder's session ends. */
  async function killLeaderSession(): Promise<void> {
    const killed: unknown[] = await dataSource.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks
       WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [ADVISORY_LOCK_NAMESPACE, OUTBOX_RELAY_LOCK],
    );
    expect(killed).toHaveLength(1);
  }

  /** `keys` writers in parallel, each committing `perKey` transactions of 1–3 envelopes for its own key, in order. */
  async function writeInterleaved(keys: number, perKey: number): Promise<Envelope[][]> {
    return Promise.all(
      Array.from({ length: keys }, async (_, k) => {
        const sent: Envelope[] = [];
        for (let t = 0; t < perKey; t++) {
          const batch = Array.from({ length: 1 + ((k + t) % 3) }, (_, i) =>
            testEnvelope(`key-${k}`, { seq: sent.length + i }),
          );
          await commit(batch);
          sent.push(...batch);
        }
        return sent;
      }),
    );
  }
});
