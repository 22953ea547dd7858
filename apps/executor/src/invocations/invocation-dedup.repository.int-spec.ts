import { DataSource } from 'typeorm';
import { createTestDatabase } from '@chatfn/testing';
import { EXECUTOR_MIGRATIONS } from '../executor.migrations';
import { InvocationDedupRepository } from './invocation-dedup.repository';

describe('InvocationDedupRepository (PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let ds: DataSource;
  let repo: InvocationDedupRepository;
  const key = { sourceEventId: 'ev-1', functionId: 3, versionNumber: 2 };

  beforeAll(async () => {
    db = await createTestDatabase('dedup');
    ds = new DataSource({ type: 'postgres', url: db.url, migrations: EXECUTOR_MIGRATIONS });
    await ds.initialize();
    await ds.runMigrations();
    repo = new InvocationDedupRepository(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('lets one of several concurrent claims of the same work win', async () => {
    const wins = await Promise.all(Array.from({ length: 5 }, (_, i) => repo.claim(key, `inv-${i}`, 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('refuses a redelivery after the work is done, but another version or event is new work', async () => {
    await repo.finish(key);
    expect(await repo.claim(key, 'again', 0)).toBe(false);
    expect(await repo.claim({ ...key, versionNumber: 3 }, 'v3', 60_000)).toBe(true);
    expect(await repo.claim({ ...key, sourceEventId: 'ev-2' }, 'e2', 60_000)).toBe(true);
  });

  it('re-claims work left running by a dead executor once it is stale', async () => {
    const k = { sourceEventId: 'ev-stale', functionId: 1, versionNumber: 1 };
    expect(await repo.claim(k, 'a', 60_000)).toBe(true);
    expect(await repo.claim(k, 'b', 60_000)).toBe(false);
    await ds.query(`UPDATE invocation_dedup SET claimed_at = now() - interval '2 minutes' WHERE source_event_id = 'ev-stale'`);
    expect(await repo.claim(k, 'c', 60_000)).toBe(true);
  });

  it('claims a batch in one statement: duplicates within it and done work lose', async () => {
    const k = (e: string) => ({ key: { sourceEventId: e, functionId: 9, versionNumber: 1 }, invocationId: `i-${e}`, request: { e }, cause: { key: 'k' } });
    await repo.finish({ sourceEventId: 'b-done', functionId: 9, versionNumber: 1 });
    expect(await repo.claim({ sourceEventId: 'b-done', functionId: 9, versionNumber: 1 }, 'x', 60_000)).toBe(true);
    await repo.finishMany([{ sourceEventId: 'b-done', functionId: 9, versionNumber: 1 }]);
    expect(await repo.claimMany([k('b1'), k('b2'), k('b1'), k('b-done')], 'me', 60_000)).toEqual([true, true, false, false]);
  });

  it('takes over the running claims of an owner that stopped renewing its lease, with their requests', async () => {
    const item = { key: { sourceEventId: 'lease', functionId: 4, versionNumber: 1 }, invocationId: 'inv-lease', request: { hello: 1 }, cause: { key: 'ch' } };
    expect(await repo.claimMany([item], 'dead', 60_000)).toEqual([true]);
    expect(await repo.takeOver('alive', 60_000, 10)).toEqual([]);
    await ds.query(`UPDATE invocation_dedup SET claimed_at = now() - interval '2 minutes' WHERE owner = 'dead'`);
    await repo.renew('alive', [item.key]); // renewing someone else's claim does nothing for the dead owner's rows
    const taken = await repo.takeOver('alive', 60_000, 10);
    expect(taken).toEqual([{ key: item.key, invocationId: 'inv-lease', request: { hello: 1 }, cause: { key: 'ch' } }]);
    expect(await repo.takeOver('third', 60_000, 10)).toEqual([]);
  });

  it('renews only the claims named by their owner; the others lapse', async () => {
    const mk = (e: string) => ({ key: { sourceEventId: e, functionId: 5, versionNumber: 1 }, invocationId: `i-${e}`, request: {}, cause: {} });
    expect(await repo.claimMany([mk('held'), mk('lost')], 'owner-x', 60_000)).toEqual([true, true]);
    await ds.query(`UPDATE invocation_dedup SET claimed_at = now() - interval '2 minutes' WHERE owner = 'owner-x'`);
    await repo.renew('owner-x', [mk('held').key]);
    expect((await repo.takeOver('owner-y', 60_000, 10)).map((t) => t.key.sourceEventId)).toEqual(['lost']);
  });
});
