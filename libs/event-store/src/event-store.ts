import { Envelope } from '@chatfn/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { EventStoreError, EventStoreErrorCode } from './event-store.error';
import { AppendOptions, AppendResult, ExpectedVersion, NewEvent, StoredEvent } from './event-store.types';
import { outboxSignal } from './outbox-signal';
import { preparedQuery } from './prepared-query';

/** Serialises retried 'any' appends to one stream; its own namespace so hashes cannot hit the other locks. */
const STREAM_LOCK_NAMESPACE = 0x63687374; // 'chst'

/** 'any' appends retry after a concurrent writer took their version; past the first retry they hold the lock. */
const MAX_ANY_ATTEMPTS = 10;

// One round trip: reads the stream's version, checks it, inserts the batch only if it matches and, if it all went
// in, the outbox rows ($4, possibly none). A concurrent writer's uncommitted row at one of our versions makes the
// INSERT wait for it; once it commits, ON CONFLICT skips our row instead of raising 23505, so a conflict never
// aborts the caller's transaction.
const APPEND_SQL = `
  WITH current AS (
    SELECT coalesce(max(version), 0) AS version FROM events WHERE stream_id = $1
  ), appended AS (
    INSERT INTO events (stream_id, version, type, data, metadata)
    SELECT $1, current.version + e.ord, e.ev->>'type', e.ev->'data', coalesce(e.ev->'metadata', '{}'::jsonb)
    FROM current, jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(ev, ord)
    WHERE $3::int IS NULL OR current.version = $3::int
    ORDER BY e.ord
    ON CONFLICT (stream_id, version) DO NOTHING
    RETURNING version
  ), enqueued AS (
    INSERT INTO outbox (topic, key, envelope)
    SELECT o.env->>'topic', o.env->>'key', o.env
    FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS o(env, ord)
    WHERE ($3::int IS NULL OR (SELECT version FROM current) = $3::int)
      AND (SELECT count(*) FROM appended) = jsonb_array_length($2::jsonb)
    ORDER BY o.ord
  )
  SELECT current.version AS current, coalesce((SELECT array_agg(version) FROM appended), '{}') AS appended
  FROM current`;

// appendAny's one round trip: each event goes to the end of its stream, in the given order (the n-th event of a
// stream in the batch at that stream's current version + n), and the events' outbox rows (`o`) follow in the same
// order — only if every event went in. A concurrent writer that took one of those versions first makes the count fall
// short. An envelope whose payload is its event's data comes without it (`p`): the statement puts the event's
// data back in, so the payload is neither serialised nor parsed twice. The outbox row's topic and key come from the
// envelope as sent: taking them from the rebuilt one made PostgreSQL rebuild it three times per row (a third of the
// statement's time).
const APPEND_ANY_SQL = `
  WITH input AS (
    SELECT e.ord, e.item->>'s' AS stream_id, e.item->'e' AS ev, e.item->'o' AS env, coalesce((e.item->>'p')::boolean, false) AS same,
           row_number() OVER (PARTITION BY e.item->>'s' ORDER BY e.ord) AS n
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(item, ord)
  ), current AS (
    SELECT s.stream_id, (SELECT coalesce(max(version), 0) FROM events WHERE stream_id = s.stream_id) AS version
    FROM (SELECT DISTINCT stream_id FROM input) s
  ), appended AS (
    INSERT INTO events (stream_id, version, type, data, metadata)
    SELECT i.stream_id, c.version + i.n, i.ev->>'type', i.ev->'data', coalesce(i.ev->'metadata', '{}'::jsonb)
    FROM input i JOIN current c USING (stream_id)
    ORDER BY i.ord
    ON CONFLICT (stream_id, version) DO NOTHING
    RETURNING stream_id, version
  ), enqueued AS (
    INSERT INTO outbox (topic, key, envelope)
    SELECT i.env->>'topic', i.env->>'key', CASE WHEN i.same THEN i.env || jsonb_build_object('payload', i.ev->'data') ELSE i.env END
    FROM input i
    WHERE i.env IS NOT NULL AND (SELECT count(*) FROM appended) = (SELECT count(*) FROM input)
    ORDER BY i.ord
  )
  SELECT (SELECT count(*)::int FROM input) AS wanted,
         coalesce((SELECT jsonb_agg(jsonb_build_array(stream_id, version)) FROM appended), '[]'::jsonb) AS appended`;

const EVENT_COLUMNS = `stream_id, version, type, data, metadata, recorded_at, position`;

// Only events whose transaction, and every transaction older than it, has ended: an event committed later can
// then never sort before one already returned. Ordered by (transaction, position) for the same reason.
const READ_ALL_FROM_START_SQL = `
  SELECT ${EVENT_COLUMNS} FROM events
  WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY transaction_id, position LIMIT $1`;
const READ_ALL_AFTER_SQL = `
  SELECT ${EVENT_COLUMNS} FROM events
  WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    AND (transaction_id, position) > ((SELECT transaction_id FROM events WHERE position = $1), $1::bigint)
  ORDER BY transaction_id, position LIMIT $2`;

const ENQUEUE_SQL = `
  INSERT INTO outbox (topic, key, envelope)
  SELECT e.env->>'topic', e.env->>'key', e.env
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(env, ord)
  ORDER BY e.ord`;

interface EventRow {
  stream_id: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recorded_at: Date;
  position: string;
}

/**
 * Append-only event streams with optimistic concurrency, plus the transactional outbox. Writes take the caller's
 * `EntityManager` so state changes, events and outbox rows commit or roll back together.
 */
export class EventStore {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /**
   * Appends `events` to `streamId` if it is at `expectedVersion`, else throws `CONCURRENCY_CONFLICT` having written
   * nothing; the caller's transaction stays usable either way. A concurrent writer that got to a version first is a
   * conflict too, except for `'any'`, which retries at the new version. Appending no events only checks the version.
   * `options.enqueue` writes those envelopes to the outbox in the same statement, as `enqueue` would, only if the
   * append succeeds: one round trip instead of two.
   */
  async append(
    manager: EntityManager,
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    assertStreamId(streamId);
    const expected = expectedVersionNumber(expectedVersion);
    events.forEach(assertNewEvent);
    const envelopes = options.enqueue ?? [];
    envelopes.forEach(assertEnvelope);
    const params = [streamId, JSON.stringify(events), expected, JSON.stringify(envelopes)];

    for (let attempt = 1; ; attempt++) {
      const [{ current, appended }] = await preparedQuery<{ current: number; appended: number[] }>(
        manager,
        'chatfn_event_store_append',
        APPEND_SQL,
        params,
      );
      const versionMatched = expected === null || current === expected;
      if (versionMatched && appended.length === events.length) {
        if (envelopes.length > 0) outboxSignal.enqueued(manager);
        return { fromVersion: current + 1, toVersion: current + events.length };
      }
      if (appended.length > 0) {
        // Part of the batch went in before a concurrent writer's versions: take ours back out.
        await manager.query('DELETE FROM events WHERE stream_id = $1 AND version = ANY($2::int[])', [streamId, appended]);
      }
      if (expected !== null || attempt >= MAX_ANY_ATTEMPTS) {
        throw EventStoreError.conflict({ streamId, expectedVersion, actualVersion: versionMatched ? undefined : current });
      }
      if (attempt === 1) {
        await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [STREAM_LOCK_NAMESPACE, streamId]);
      }
    }
  }

  /**
   * Appends events to several streams at whatever version each has (`'any'`), in one round trip: each event goes to
   * the end of its own stream, events of one stream in the given order, and `options.enqueue` goes to the outbox in
   * its given order, all only if every event went in. When a concurrent writer took a version first, this takes its
   * rows back out and appends stream by stream with `append(..., 'any', ...)` (retrying under the stream lock); the
   * outbox then receives each stream's envelopes with its events, `envelopesByStream` telling which are whose.
   * Group commit of many actions (a batch of sent messages) uses this: one statement instead of one per stream.
   * An envelope whose `payload` is its event's `data` (the same object) is sent without it and rebuilt in the
   * statement: recording a chat event serialises its data once, not twice.
   */
  async appendAny(
    manager: EntityManager,
    events: { streamId: string; event: NewEvent; envelope?: Envelope }[],
  ): Promise<void> {
    if (events.length === 0) return;
    events.forEach((e) => {
      assertStreamId(e.streamId);
      assertNewEvent(e.event);
      if (e.envelope) assertEnvelope(e.envelope);
    });
    const items = events.map(({ streamId, event, envelope }) => {
      if (!envelope) return { s: streamId, e: event };
      if (envelope.payload !== event.data) return { s: streamId, e: event, o: envelope };
      const { payload: _same, ...rest } = envelope;
      return { s: streamId, e: event, o: rest, p: true };
    });
    const [{ wanted, appended }] = await preparedQuery<{ wanted: number; appended: [string, number][] }>(
      manager,
      'chatfn_event_store_append_any',
      APPEND_ANY_SQL,
      [JSON.stringify(items)],
    );
    if (appended.length === wanted) {
      if (events.some((e) => e.envelope)) outboxSignal.enqueued(manager);
      return;
    }
    if (appended.length > 0) {
      await manager.query(
        `DELETE FROM events e USING jsonb_to_recordset($1::jsonb) AS x(s text, v int) WHERE e.stream_id = x.s AND e.version = x.v`,
        [JSON.stringify(appended.map(([s, v]) => ({ s, v })))],
      );
    }
    const byStream = new Map<string, { events: NewEvent[]; envelopes: Envelope[] }>();
    for (const e of events) {
      let run = byStream.get(e.streamId);
      if (!run) byStream.set(e.streamId, (run = { events: [], envelopes: [] }));
      run.events.push(e.event);
      if (e.envelope) run.envelopes.push(e.envelope);
    }
    for (const [streamId, run] of byStream) await this.append(manager, streamId, 'any', run.events, { enqueue: run.envelopes });
  }

  /** The stream's events from `fromVersion` on, in version order (empty for a stream that does not exist). */
  async read(streamId: string, fromVersion = 1, manager: EntityManager = this.dataSource.manager): Promise<StoredEvent[]> {
    const rows: EventRow[] = await manager.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version`,
      [streamId, fromVersion],
    );
    return rows.map(toStoredEvent);
  }

  /**
   * Up to `limit` events of all streams after the checkpoint `afterPosition` (0 = from the start; otherwise the
   * `position` of the last event a previous call returned). Events come in commit-safe order — one stream's in
   * version order, each transaction's together — which is not strictly ascending `position`; checkpoint with the
   * last returned event's position. An event appears only once every transaction older than its own has ended, so
   * one long-running transaction holds the feed back until it ends.
   */
  async readAll(afterPosition: number, limit = 1000): Promise<StoredEvent[]> {
    if (!Number.isSafeInteger(afterPosition) || afterPosition < 0) {
      throw new EventStoreError(EventStoreErrorCode.INVALID_ARGUMENT, `invalid position ${afterPosition}`);
    }
    const manager = this.dataSource.manager;
    const rows: EventRow[] =
      afterPosition === 0
        ? await manager.query(READ_ALL_FROM_START_SQL, [limit])
        : await manager.query(READ_ALL_AFTER_SQL, [afterPosition, limit]);
    if (rows.length === 0 && afterPosition > 0) {
      const known: unknown[] = await manager.query('SELECT 1 FROM events WHERE position = $1', [afterPosition]);
      if (known.length === 0) {
        throw new EventStoreError(EventStoreErrorCode.INVALID_ARGUMENT, `no event at position ${afterPosition}`);
      }
    }
    return rows.map(toStoredEvent);
  }

  /**
   * Writes envelopes to the outbox in the caller's transaction; the relay publishes them, in this order, after
   * commit, and is woken when the transaction commits (see `OutboxSignal`). Enqueue after the writes that order a
   * key (e.g. the stream append): outbox ids are taken at enqueue, and the relay publishes in id order.
   */
  async enqueue(manager: EntityManager, envelopes: Envelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    envelopes.forEach(assertEnvelope);
    await preparedQuery(manager, 'chatfn_event_store_enqueue', ENQUEUE_SQL, [JSON.stringify(envelopes)]);
    outboxSignal.enqueued(manager);
  }
}

function expectedVersionNumber(expected: ExpectedVersion): number | null {
  if (expected === 'any') return null;
  if (expected === 'no-stream') return 0;
  if (Number.isInteger(expected) && expected >= 0) return expected;
  throw new EventStoreError(EventStoreErrorCode.INVALID_ARGUMENT, `invalid expected version ${String(expected)}`);
}

function assertStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || streamId.length === 0) {
    throw new EventStoreError(EventStoreErrorCode.INVALID_ARGUMENT, 'stream id must be a non-empty string');
  }
}

function assertNewEvent(event: NewEvent): void {
  if (typeof event.type !== 'string' || event.type.length === 0) {
    throw new EventStoreError(EventStoreErrorCode.INVALID_ARGUMENT, 'event type must be a non-empty string');
  }
  if (typeof event.data !== 'object' || event.data === null) {
    throw new EventStoreError(EventStoreErrorCode.INVALID_ARGUMENT, `event ${event.type}: data must be an object`);
  }
  if (event.metadata !== undefined && (typeof event.metadata !== 'object' || event.metadata === null)) {
    throw new EventStoreError(EventStoreErrorCode.INVALID_ARGUMENT, `event ${event.type}: metadata must be an object`);
  }
}

function assertEnvelope(env: Envelope): void {
  if (!env.topic || typeof env.key !== 'string' || !env.key || !env.eventId) {
    throw new EventStoreError(EventStoreErrorCode.INVALID_ARGUMENT, 'envelope needs a topic, key and eventId');
  }
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    streamId: row.stream_id,
    version: row.version,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
    position: Number(row.position),
  };
}
