import { DataSource } from 'typeorm';
import { createTestDatabase } from '@chatfn/testing';
import { CreateInvocationDedup1764000000600 } from '../migrations/create-invocation-dedup.migration';
import { InvocationDedupRepository } from './invocation-dedup.repository';

describe('InvocationDedupRepository (PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let ds: DataSource;
  let repo: InvocationDedupRepository;
  const key = { sourceEventId: 'ev-1', functionId: 3, versionNumber: 2 };

  beforeAll(async () => {
    db = await createTestDatabase('dedup');
    ds = new DataSource({ type: 'postgres', url: db.url, migrations: [CreateInvocationDedup1764000000600] });
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
});
