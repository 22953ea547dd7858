import { DataSource, EntityManager } from 'typeorm';
import { EventStore } from './event-store';
import { EventStoreError, EventStoreErrorCode } from './event-store.error';
import { migratedDatabase } from './testing/test-database';
import { testEnvelope } from './testing/test-envelopes';
import { until } from './testing/until';

describe('EventStore (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let dataSource: DataSource;
  let store: EventStore;

  beforeAll(async () => {
    db = await migratedDatabase('es_store');
    dataSource = db.dataSource;
    store = new EventStore(dataSource);
  });
  afterAll(() => db?.close());

  const conflictOf = async (work: Promise<unknown>): Promise<EventStoreError> => {
    const err = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EventStoreError);
    expect((err as EventStoreError).code).toBe(EventStoreErrorCode.CONCURRENCY_CONFLICT);
    return err as EventStoreError;
  };

  it('appends events and reads them back in version order', async () => {
    const first = await store.transaction((m) =>
      store.append(m, 'deploy-1', 'no-stream', [
        { type: 'VersionSaved', data: { version: 1 }, metadata: { by: 'alice' } },
        { type: 'VersionDeployed', data: { version: 1 } },
      ]),
    );
    const second = await store.transaction((m) =>
      store.append(m, 'deploy-1', 2, [{ type: 'VersionSaved', data: { version: 2 } }]),
    );

    expect(first).toEqual({ fromVersion: 1, toVersion: 2 });
    expect(second).toEqual({ fromVersion: 3, toVersion: 3 });
    const events = await store.read('deploy-1');
    expect(events.map((e) => [e.version, e.type, e.data, e.metadata])).toEqual([
      [1, 'VersionSaved', { version: 1 }, { by: 'alice' }],
      [2, 'VersionDeployed', { version: 1 }, {}],
      [3, 'VersionSaved', { version: 2 }, {}],
    ]);
    expect(events.every((e) => e.streamId === 'deploy-1' && e.recordedAt instanceof Date)).toBe(true);
    expect(events[1].position).toBeGreaterThan(events[0].position);
    expect((await store.read('deploy-1', 3)).map((e) => e.version)).toEqual([3]);
    expect(await store.read('no-such-stream')).toEqual([]);
  });

  it("appends at the stream's current version with 'any'", async () => {
    await store.append(dataSource.manager, 'any-1', 'any', [{ type: 'A', data: {} }]);
    const result = await store.append(dataSource.manager, 'any-1', 'any', [{ type: 'B', data: {} }]);
    expect(result).toEqual({ fromVersion: 2, toVersion: 2 });
  });

  it('rejects a wrong expected version with CONCURRENCY_CONFLICT and writes nothing', async () => {
    await store.transaction((m) => store.append(m, 'wrong-1', 'no-stream', [{ type: 'A', data: {} }]));

    const stale = await conflictOf(
      store.transaction((m) => store.append(m, 'wrong-1', 0, [{ type: 'B', data: {} }])),
    );
    const ahead = await conflictOf(store.transaction((m) => store.append(m, 'wrong-1', 5, [{ type: 'B', data: {} }])));
    await conflictOf(store.transaction((m) => store.append(m, 'wrong-1', 'no-stream', [{ type: 'B', data: {} }])));
    await conflictOf(store.transaction((m) => store.append(m, 'never-written', 1, [{ type: 'B', data: {} }])));

    expect(stale.details).toMatchObject({ streamId: 'wrong-1', expectedVersion: 0, actualVersion: 1 });
    expect(ahead.details?.actualVersion).toBe(1);
    expect((await store.read('wrong-1')).map((e) => e.type)).toEqual(['A']);
    expect(await store.read('never-written')).toEqual([]);
  });

  it('lets exactly one of two concurrent appends at the same version win, leaving the loser usable', async () => {
    await store.append(dataSource.manager, 'race-1', 'no-stream', [{ type: 'Created', data: {} }]);
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstAppended!: () => void;
    const firstHasAppended = new Promise<void>((resolve) => (firstAppended = resolve));

    // The first writer has inserted version 2 but not committed; the second must wait for it, then lose.
    const first = store.transaction(async (m) => {
      await store.append(m, 'race-1', 1, [{ type: 'ByFirst', data: {} }]);
      firstAppended();
      await firstMayCommit;
    });
    await firstHasAppended;
    const second = store.transaction(async (m) => {
      const lost = await conflictOf(
        store.append(m, 'race-1', 1, [
          { type: 'BySecond', data: {} },
          { type: 'BySecondToo', data: {} },
        ]),
      );
      // Its transaction can go on: record the failure and commit.
      await store.append(m, 'race-1-failures', 'any', [{ type: 'AppendLost', data: {} }]);
      return lost;
    });
    await until(async () => (await blockedOnLock(dataSource)) > 0, 'the second append to wait for the first');
    releaseFirst();

    await first;
    expect((await second).details).toMatchObject({ streamId: 'race-1', expectedVersion: 1 });
    expect((await store.read('race-1')).map((e) => e.type)).toEqual(['Created', 'ByFirst']);
    expect((await store.read('race-1-failures')).map((e) => e.type)).toEqual(['AppendLost']);
  });

  it('lets one of many simultaneous writers with the same expected version win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.transaction((m) => store.append(m, 'race-2', 'no-stream', [{ type: `By${i}`, data: {} }])),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((r) => (r.reason as EventStoreError).code)).toEqual(
      Array(7).fill(EventStoreErrorCode.CONCURRENCY_CONFLICT),
    );
    expect(await store.read('race-2')).toHaveLength(1);
  });

  it("serialises simultaneous 'any' appends instead of failing them, enqueueing each once", async () => {
    const envelopes = Array.from({ length: 8 }, (_, i) => testEnvelope('any-2', { i }));
    await Promise.all(
      envelopes.map((env, i) =>
        store.transaction((m) =>
          store.append(m, 'any-2', 'any', [{ type: 'Tick', data: { i } }, { type: 'Tock', data: { i } }], {
            enqueue: [env],
          }),
        ),
      ),
    );
    const events = await store.read('any-2');
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 16 }, (_, v) => v + 1));
    // Each writer's two events stay together.
    for (let v = 0; v < 16; v += 2) expect(events[v].data).toEqual(events[v + 1].data);
    const [{ n }]: { n: number }[] = await dataSource.query(`SELECT count(*)::int AS n FROM outbox WHERE key = 'any-2'`);
    expect(n).toBe(8);
  });

  it('appendAny: appends to several streams at their ends in one statement, the outbox in the given order', async () => {
    await store.append(dataSource.manager, 'many-a', 'no-stream', [{ type: 'Before', data: {} }]);
    const envs = ['many-a', 'many-b', 'many-a'].map((key, i) => testEnvelope(key, { i }));
    await store.transaction((m) =>
      store.appendAny(m, [
        { streamId: 'many-a', event: { type: 'A1', data: { i: 0 } }, envelope: envs[0] },
        { streamId: 'many-b', event: { type: 'B1', data: { i: 1 } }, envelope: envs[1] },
        { streamId: 'many-a', event: { type: 'A2', data: { i: 2 } }, envelope: envs[2] },
        { streamId: 'many-b', event: { type: 'B2', data: { i: 3 } } },
      ]),
    );
    expect((await store.read('many-a')).map((e) => [e.version, e.type])).toEqual([[1, 'Before'], [2, 'A1'], [3, 'A2']]);
    expect((await store.read('many-b')).map((e) => [e.version, e.type])).toEqual([[1, 'B1'], [2, 'B2']]);
    const rows: { event_id: string }[] = await dataSource.query(
      `SELECT envelope->>'eventId' AS event_id FROM outbox WHERE key IN ('many-a', 'many-b') ORDER BY id`,
    );
    expect(rows.map((r) => r.event_id)).toEqual(envs.map((e) => e.eventId));
  });

  it('appendAny: an envelope carrying its event data as payload reaches the outbox whole', async () => {
    const data = { user: { id: 1, name: 'a' }, list: [1, 2], text: 'x' };
    const same = testEnvelope('many-same', data);
    const other = testEnvelope('many-same', { n: 2 });
    const events = [
      { streamId: 'many-same', event: { type: 'Same', data: same.payload as Record<string, unknown> }, envelope: same },
      { streamId: 'many-same', event: { type: 'Other', data: { differs: true } }, envelope: other },
    ];
    await store.transaction((m) => store.appendAny(m, events));
    const rows: { envelope: unknown }[] = await dataSource.query(`SELECT envelope FROM outbox WHERE key = 'many-same' ORDER BY id`);
    expect(rows.map((r) => r.envelope)).toEqual([JSON.parse(JSON.stringify(same)), JSON.parse(JSON.stringify(other))]);
    expect((await store.read('many-same')).map((e) => e.data)).toEqual([data, { differs: true }]);
  });

  it('appendAny: when a concurrent writer takes a version first, falls back stream by stream and loses nothing', async () => {
    await store.append(dataSource.manager, 'many-race', 'no-stream', [{ type: 'Created', data: {} }]);
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstAppended!: () => void;
    const firstHasAppended = new Promise<void>((resolve) => (firstAppended = resolve));
    const first = store.transaction(async (m) => {
      await store.append(m, 'many-race', 1, [{ type: 'ByFirst', data: {} }]);
      firstAppended();
      await firstMayCommit;
    });
    await firstHasAppended;
    const envs = [testEnvelope('many-race', { n: 1 }), testEnvelope('many-race-other', { n: 2 }), testEnvelope('many-race', { n: 3 })];
    const second = store.transaction((m) =>
      store.appendAny(m, [
        { streamId: 'many-race', event: { type: 'Second1', data: {} }, envelope: envs[0] },
        { streamId: 'many-race-other', event: { type: 'Other', data: {} }, envelope: envs[1] },
        { streamId: 'many-race', event: { type: 'Second2', data: {} }, envelope: envs[2] },
      ]),
    );
    await until(async () => (await blockedOnLock(dataSource)) > 0, 'appendAny to wait for the first writer');
    releaseFirst();
    await Promise.all([first, second]);

    expect((await store.read('many-race')).map((e) => e.type)).toEqual(['Created', 'ByFirst', 'Second1', 'Second2']);
    expect((await store.read('many-race-other')).map((e) => [e.version, e.type])).toEqual([[1, 'Other']]);
    const rows: { event_id: string; key: string }[] = await dataSource.query(
      `SELECT envelope->>'eventId' AS event_id, key FROM outbox WHERE key IN ('many-race', 'many-race-other') ORDER BY id`,
    );
    // Each envelope once; one stream's in their order.
    expect(rows.map((r) => r.event_id).sort()).toEqual(envs.map((e) => e.eventId).sort());
    expect(rows.filter((r) => r.key === 'many-race').map((r) => r.event_id)).toEqual([envs[0].eventId, envs[2].eventId]);
  });

  it('commits state, events and outbox rows together, and rolls them back together', async () => {
    await dataSource.query('CREATE TABLE IF NOT EXISTS widgets (id text PRIMARY KEY)');
    const unitOfWork = (id: string, fail: boolean) =>
      store.transaction(async (m: EntityManager) => {
        await m.query('INSERT INTO widgets (id) VALUES ($1)', [id]);
        await store.append(m, `widget-${id}`, 'no-stream', [{ type: 'WidgetCreated', data: { id } }]);
        await store.enqueue(m, [testEnvelope(`widget-${id}`, { id })]);
        if (fail) throw new Error('handler failed after writing');
      });

    await unitOfWork('kept', false);
    await expect(unitOfWork('dropped', true)).rejects.toThrow('handler failed after writing');

    const widgets: { id: string }[] = await dataSource.query('SELECT id FROM widgets');
    const outbox: { key: string }[] = await dataSource.query(`SELECT key FROM outbox WHERE key LIKE 'widget-%'`);
    expect(widgets.map((w) => w.id)).toEqual(['kept']);
    expect(outbox.map((o) => o.key)).toEqual(['widget-kept']);
    expect(await store.read('widget-kept')).toHaveLength(1);
    expect(await store.read('widget-dropped')).toEqual([]);
  });

  it('enqueues envelopes given to append only when the append succeeds', async () => {
    const outboxFor = async (key: string) =>
      ((await dataSource.query('SELECT envelope FROM outbox WHERE key = $1 ORDER BY id', [key])) as {
        envelope: { eventId: string };
      }[]).map((r) => r.envelope.eventId);
    const sent = [testEnvelope('with-append', { n: 1 }), testEnvelope('with-append', { n: 2 })];

    await store.transaction((m) =>
      store.append(m, 'with-append', 'no-stream', [{ type: 'A', data: {} }], { enqueue: sent }),
    );
    await conflictOf(
      store.transaction((m) =>
        store.append(m, 'with-append', 0, [{ type: 'B', data: {} }], { enqueue: [testEnvelope('with-append', {})] }),
      ),
    );
    await conflictOf(
      store.transaction((m) => store.append(m, 'with-append', 0, [], { enqueue: [testEnvelope('with-append', {})] })),
    );

    expect(await outboxFor('with-append')).toEqual(sent.map((e) => e.eventId));
    expect((await store.read('with-append')).map((e) => e.type)).toEqual(['A']);
  });

  it('stores envelopes in the outbox in the order given', async () => {
    const envelopes = [testEnvelope('ord', { n: 1 }), testEnvelope('ord', { n: 2 }), testEnvelope('ord', { n: 3 })];
    await store.transaction((m) => store.enqueue(m, envelopes));
    const rows: { topic: string; envelope: { eventId: string } }[] = await dataSource.query(
      `SELECT topic, envelope FROM outbox WHERE key = 'ord' ORDER BY id`,
    );
    expect(rows.map((r) => r.envelope.eventId)).toEqual(envelopes.map((e) => e.eventId));
    expect(rows[0].topic).toBe('test.outbox.recorded.v1');
  });

  it('feeds readAll in an order that never skips an event committed late', async () => {
    const before = await readAllFrom(0);
    const checkpoint = before.length ? before[before.length - 1].position : 0;

    // `slow` takes the lower position but commits after `fast`.
    let releaseSlow!: () => void;
    const slowMayCommit = new Promise<void>((resolve) => (releaseSlow = resolve));
    let slowAppended!: () => void;
    const slowHasAppended = new Promise<void>((resolve) => (slowAppended = resolve));
    const slow = store.transaction(async (m) => {
      await store.append(m, 'feed-slow', 'no-stream', [{ type: 'Slow', data: {} }]);
      slowAppended();
      await slowMayCommit;
    });
    await slowHasAppended;
    await store.transaction((m) => store.append(m, 'feed-fast', 'no-stream', [{ type: 'Fast', data: {} }]));

    expect(await store.readAll(checkpoint)).toEqual([]);
    releaseSlow();
    await slow;

    // Any open transaction on the server (other test files too) holds the feed back, so wait for it to catch up.
    let fed = await store.readAll(checkpoint);
    await until(async () => (fed = await store.readAll(checkpoint)).length === 2, 'both events in the feed');
    expect(fed.map((e) => e.type).sort()).toEqual(['Fast', 'Slow']);
    expect(await store.readAll(fed[fed.length - 1].position)).toEqual([]);
    expect(fed.find((e) => e.type === 'Slow')!.position).toBeLessThan(fed.find((e) => e.type === 'Fast')!.position);
  });

  it('pages readAll with the last position as checkpoint', async () => {
    const [{ total }]: { total: number }[] = await dataSource.query('SELECT count(*)::int AS total FROM events');
    let all = await readAllFrom(0);
    await until(async () => (all = await readAllFrom(0)).length === total, 'every event in the feed');
    const paged = [];
    let after = 0;
    for (;;) {
      const page = await store.readAll(after, 3);
      if (page.length === 0) break;
      paged.push(...page);
      after = page[page.length - 1].position;
    }
    expect(paged.map((e) => e.position)).toEqual(all.map((e) => e.position));
    expect(new Set(all.map((e) => e.position)).size).toBe(all.length);
    await expect(store.readAll(987654321)).rejects.toMatchObject({ code: EventStoreErrorCode.INVALID_ARGUMENT });
  });

  async function readAllFrom(position: number) {
    return store.readAll(position, 100_000);
  }
});

async function blockedOnLock(dataSource: DataSource): Promise<number> {
  const [{ n }]: { n: number }[] = await dataSource.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return n;
}
