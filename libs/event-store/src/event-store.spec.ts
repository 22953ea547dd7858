import { DataSource, EntityManager } from 'typeorm';
import { EventStore } from './event-store';
import { EventStoreError, EventStoreErrorCode, isEventStoreError } from './event-store.error';
import { NewEvent } from './event-store.types';

/** Input checks happen before any SQL: a manager that fails the test if it is queried. */
const untouchable = {
  query: () => {
    throw new Error('the database should not be reached');
  },
} as unknown as EntityManager;

describe('EventStore input checks', () => {
  const store = new EventStore({} as DataSource);
  const invalid = (run: () => Promise<unknown>) =>
    expect(run()).rejects.toMatchObject({ code: EventStoreErrorCode.INVALID_ARGUMENT });

  it.each<[string, string, number | 'no-stream' | 'any', NewEvent[]]>([
    ['an empty stream id', '', 'any', [{ type: 'A', data: {} }]],
    ['a negative expected version', 's', -1, [{ type: 'A', data: {} }]],
    ['a fractional expected version', 's', 1.5, [{ type: 'A', data: {} }]],
    ['an event without a type', 's', 'any', [{ type: '', data: {} }]],
    ['an event whose data is null', 's', 'any', [{ type: 'A', data: null as unknown as object }]],
    ['an event whose metadata is a string', 's', 'any', [{ type: 'A', data: {}, metadata: 'x' as unknown as object }]],
  ])('rejects %s', (_, streamId, expected, events) => invalid(() => store.append(untouchable, streamId, expected, events)));

  it('rejects an envelope without a key and skips an empty enqueue', async () => {
    const env = { topic: 't', key: '', eventId: 'e' } as never;
    await invalid(() => store.enqueue(untouchable, [env]));
    await expect(store.enqueue(untouchable, [])).resolves.toBeUndefined();
  });

  it('rejects a checkpoint that is not a position', () => invalid(() => store.readAll(-1)));
});

describe('EventStoreError', () => {
  it('describes a conflict with what was expected and found', () => {
    const err = EventStoreError.conflict({ streamId: 'deploy-1', expectedVersion: 2, actualVersion: 3 });
    expect(err.message).toBe('stream deploy-1: expected version 2, found version 3');
    expect(isEventStoreError(err, EventStoreErrorCode.CONCURRENCY_CONFLICT)).toBe(true);
    expect(isEventStoreError(new Error('x'))).toBe(false);
  });
});
