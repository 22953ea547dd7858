import { Envelope } from '@chatfn/contracts';
import { MessageBus } from '@chatfn/messaging';
import { Client, ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { ADVISORY_LOCK_NAMESPACE, OUTBOX_RELAY_LOCK } from './advisory-locks';
import { EventStoreError, EventStoreErrorCode } from './event-store.error';
import { OUTBOX_CHANNEL, databaseKey, outboxSignal } from './outbox-signal';
import { pgClientConfig } from './pg-client-config';

export interface OutboxRelayLogger {
  log(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface OutboxRelayOptions {
  /** Most rows read and published per round. Default 500. */
  batchSize?: number;
  /** Fallback poll while leading (in case a notification is lost), and how often a standby retries the lock.
   * Default 500 ms. */
  pollIntervalMs?: number;
  /** 0 (default): a published row is deleted by the next round (or at stop). Otherwise published rows are kept this long, for inspection,
   * then deleted by the cleanup; marking and deleting later cost about a quarter more database time per row. */
  retentionMs?: number;
  /** How often the cleanup runs. Default 30 s. */
  cleanupIntervalMs?: number;
  /**
   * How long a woken relay waits before reading, so that commits close together leave in one publish. Default 0.
   * Over Kafka each publish is a produce request and one fetch per consuming group: a few milliseconds here halve
   * both under load (see `CHATFN_OUTBOX_LINGER_MS`).
   */
  lingerMs?: number;
  /** Backoff after a failed round (publish or database): doubles from `initialMs` up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number };
  /** Connection for the relay's dedicated client; default: the DataSource's primary. */
  connection?: ClientConfig;
  logger?: OutboxRelayLogger;
}

export interface OutboxRelayStatus {
  running: boolean;
  /** True while this relay holds the relay lock and is the one publishing. */
  leader: boolean;
  /** Rows this relay has published since it was created. */
  published: number;
  /** Rounds that failed in a row (0 when the last one succeeded). */
  consecutiveFailures: number;
}

interface OutboxRow {
  id: string;
  envelope: Envelope;
}

const SELECT_BATCH_SQL = `SELECT id, envelope FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1`;
const MARK_PUBLISHED_SQL = `UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])`;
const DELETE_PUBLISHED_SQL = `DELETE FROM outbox WHERE id = ANY($1::bigint[])`;
// The previous round's rows, published, are deleted by the statement that reads the next batch: one round trip per
// round. The SELECT sees the table as it was before the DELETE, so it leaves those rows out itself.
const DELETE_AND_SELECT_SQL = `
  WITH gone AS (DELETE FROM outbox WHERE id = ANY($1::bigint[]))
  SELECT id, envelope FROM outbox WHERE published_at IS NULL AND id <> ALL($1::bigint[]) ORDER BY id LIMIT $2`;

/**
 * Publishes outbox rows to the bus, at least once and in id order (so in order per key).
 *
 * One relay publishes at a time per database: it holds a session advisory lock on a dedicated connection, and
 * other relays stand by and retry the lock. `FOR UPDATE SKIP LOCKED` batches would let two relays publish
 * consecutive batches at once, and a key's later message could reach the broker before its earlier one; a single
 * leader keeps the order, and the bus batching makes one leader fast enough. The same connection LISTENs on
 * `chatfn_outbox` and runs the batch queries, so a relay that lost its connection — and with it the lock — cannot
 * mark rows as published. Commits wake it at once (see `OutboxSignal`); the poll is the fallback.
 *
 * A round reads up to `batchSize` unpublished rows by id and publishes them with one `publishEnvelopes`; the next
 * round's read deletes them in the same statement, and a stop deletes what is left (or, with a `retentionMs`, a
 * round marks them published and the cleanup deletes them later by id range). If publishing throws,
 * nothing is touched and the round is retried after a backoff; a crash between publish and delete only causes
 * duplicates (consumers are idempotent on eventId).
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retentionMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly lingerMs: number;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly connection: ClientConfig;
  private readonly logger: OutboxRelayLogger;

  private loop?: Promise<void>;
  private unregister?: () => void;
  private stopping = false;
  private client?: Client;
  private clientBroken = false;
  private leader = false;
  private published = 0;
  private failures = 0;
  private wakePending = false;
  private interruptWait?: () => void;
  private roundListeners: (() => void)[] = [];
  /** Highest published id per round, oldest first: what the cleanup may delete once it is old enough. */
  private publishedMarks: { maxId: bigint; at: number }[] = [];
  /** Rows this leader published whose delete rides on the next round's read (retention 0). */
  private toDelete: string[] = [];
  private lastCleanupAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: MessageBus,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.retentionMs = options.retentionMs ?? 0;
    this.cleanupIntervalMs = options.cleanupIntervalMs ?? 30_000;
    this.lingerMs = options.lingerMs ?? 0;
    this.retry = options.retry ?? { initialMs: 100, maxMs: 10_000 };
    // Keepalive: a relay cut off from the server without a FIN/RST notices in bounded time, not on a dead socket.
    this.connection = { keepAlive: true, ...(options.connection ?? pgClientConfig(dataSource, 'chatfn-outbox-relay')) };
    this.logger = options.logger ?? {
      log: (message) => console.log(`[outbox-relay] ${message}`),
      error: (message, error) => console.error(`[outbox-relay] ${message}`, error ?? ''),
    };
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new EventStoreError(EventStoreErrorCode.INVALID_ARGUMENT, `invalid batchSize ${this.batchSize}`);
    }
  }

  /** Starts relaying in the background; a database or bus that is down is retried, not thrown. */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    this.unregister = outboxSignal.register(databaseKey(this.connection), {
      wake: () => this.wake(),
      isLeader: () => this.leader,
    });
    this.loop = this.run();
  }

  /** Stops after the round in flight (if any) has published and settled its rows, and releases the lock. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.interruptWait?.();
    await this.loop;
    this.unregister?.();
    this.loop = undefined;
  }

  status(): OutboxRelayStatus {
    return {
      running: this.loop !== undefined && !this.stopping,
      leader: this.leader,
      published: this.published,
      consecutiveFailures: this.failures,
    };
  }

  /**
   * Resolves once every outbox row committed before the call has been published, by this relay or the leader.
   * A row written by a transaction still open at the call may hold it up until that transaction ends.
   */
  async flush(): Promise<void> {
    this.assertRunning();
    const [{ max }]: { max: string }[] = await this.dataSource.query('SELECT coalesce(max(id), 0) AS max FROM outbox');
    for (;;) {
      const [{ pending }]: { pending: boolean }[] = await this.dataSource.query(
        'SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL AND id <= $1) AS pending',
        [max],
      );
      if (!pending) return;
      this.assertRunning();
      const nextRound = new Promise<void>((resolve) => this.roundListeners.push(resolve));
      this.wake();
      await Promise.race([nextRound, delay(this.pollIntervalMs)]);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.disconnectIfBroken();
        if (!this.leader) {
          if (!(await this.tryLead())) {
            await this.wait(this.pollIntervalMs, false);
            continue;
          }
        }
        const drained = await this.round();
        this.failures = 0;
        await this.cleanupIfDue();
        if (drained) {
          await this.wait(this.pollIntervalMs, true);
          if (this.lingerMs > 0 && !this.stopping) await this.wait(this.lingerMs, false);
        }
      } catch (err) {
        this.failures++;
        this.logger.error(`round failed (${this.failures} in a row), retrying`, err);
        await this.disconnectIfBroken();
        this.notifyRound();
        const backoff = Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** Math.min(this.failures - 1, 20));
        await this.wait(backoff, false);
      }
    }
    await this.deletePublished();
    await this.disconnect();
    this.notifyRound();
  }

  /** Deletes what this relay published and has not deleted yet (at stop; otherwise the next round does). */
  private async deletePublished(): Promise<void> {
    if (this.toDelete.length === 0 || !this.client || this.clientBroken) return;
    try {
      await this.client.query({ name: 'delete_published', text: DELETE_PUBLISHED_SQL, values: [this.toDelete] });
    } catch (err) {
      // Published anyway: the next leader publishes them again (consumers are idempotent on eventId).
      this.logger.error('could not delete published rows at stop', err);
    }
    this.toDelete = [];
  }

  private async tryLead(): Promise<boolean> {
    const client = await this.connect();
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [
      ADVISORY_LOCK_NAMESPACE,
      OUTBOX_RELAY_LOCK,
    ]);
    if (!rows[0].locked) return false;
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.leader = true;
    // Rows published by earlier leaders are unknown to this one: let them age from now.
    const { rows: published } = await client.query<{ max: string | null }>(
      'SELECT max(id) AS max FROM outbox WHERE published_at IS NOT NULL',
    );
    this.publishedMarks = published[0].max === null ? [] : [{ maxId: BigInt(published[0].max), at: Date.now() }];
    this.logger.log('leading: publishing the outbox');
    return true;
  }

  /** One batch; true when it found fewer rows than a full batch (nothing else was waiting when it looked). */
  private async round(): Promise<boolean> {
    const client = this.client!;
    this.wakePending = false;
    const { rows } =
      this.toDelete.length > 0
        ? await client.query<OutboxRow>({ name: 'delete_and_select_batch', text: DELETE_AND_SELECT_SQL, values: [this.toDelete, this.batchSize] })
        : await client.query<OutboxRow>({ name: 'select_batch', text: SELECT_BATCH_SQL, values: [this.batchSize] });
    this.toDelete = [];
    if (rows.length > 0) {
      await this.bus.publishEnvelopes(rows.map((row) => row.envelope));
      const ids = rows.map((row) => row.id);
      if (this.retentionMs === 0) this.toDelete = ids;
      else await client.query({ name: 'mark_published', text: MARK_PUBLISHED_SQL, values: [ids] });
      this.published += rows.length;
      if (this.retentionMs > 0) {
        const maxId = ids.reduce((max, id) => (BigInt(id) > max ? BigInt(id) : max), 0n);
        this.publishedMarks.push({ maxId, at: Date.now() });
      }
    }
    this.notifyRound();
    return rows.length < this.batchSize;
  }

  private async cleanupIfDue(): Promise<void> {
    const now = Date.now();
    if (this.retentionMs === 0 || now - this.lastCleanupAt < this.cleanupIntervalMs) return;
    this.lastCleanupAt = now;
    let cutoff: bigint | undefined;
    while (this.publishedMarks.length > 0 && this.publishedMarks[0].at <= now - this.retentionMs) {
      cutoff = this.publishedMarks.shift()!.maxId;
    }
    if (cutoff === undefined) return;
    await this.client!.query('DELETE FROM outbox WHERE id <= $1 AND published_at IS NOT NULL', [cutoff.toString()]);
  }

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    const client = new Client(this.connection);
    this.clientBroken = false;
    const broken = (err?: Error): void => {
      if (client !== this.client) return;
      this.clientBroken = true;
      this.leader = false;
      if (err) this.logger.error('relay connection lost', err);
      this.interruptWait?.();
    };
    client.on('error', broken);
    client.on('end', () => broken());
    client.on('notification', () => this.wake());
    this.client = client;
    try {
      await client.connect();
    } catch (err) {
      this.clientBroken = true;
      throw err;
    }
    return client;
  }

  private async disconnectIfBroken(): Promise<void> {
    if (this.clientBroken) await this.disconnect();
  }

  /** Ending the session drops the advisory lock and the LISTEN with it. */
  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    // Rows published but not deleted are published again by whoever leads next: duplicates, never losses.
    this.toDelete = [];
    this.clientBroken = false;
    this.leader = false;
    if (!client) return;
    try {
      await client.end();
    } catch {
      // Already gone: the server has released the session's lock.
    }
  }

  private wake(): void {
    this.wakePending = true;
    this.interruptWait?.();
  }

  /** Waits `ms`, or less when stopping, when the connection breaks, or (if `onWake`) when a notification arrives. */
  private async wait(ms: number, onWake: boolean): Promise<void> {
    if (this.stopping || this.clientBroken || (onWake && this.wakePending)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      this.interruptWait = () => {
        if (this.stopping || this.clientBroken || (onWake && this.wakePending)) done();
      };
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
    this.interruptWait = undefined;
  }

  private notifyRound(): void {
    const listeners = this.roundListeners;
    this.roundListeners = [];
    listeners.forEach((resolve) => resolve());
  }

  private assertRunning(): void {
    if (!this.loop || this.stopping) {
      throw new EventStoreError(EventStoreErrorCode.RELAY_NOT_RUNNING, 'outbox relay is not running');
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
