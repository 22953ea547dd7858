import { ClientConfig } from 'pg';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { pgClientConfig } from './pg-client-config';

export const OUTBOX_CHANNEL = 'chatfn_outbox';

export interface LocalRelay {
  wake(): void;
  isLeader(): boolean;
}

/**
 * Tells relays that outbox rows have been committed.
 *
 * Not a NOTIFY inside the writer's transaction: PostgreSQL holds one server-wide lock from a notifying
 * transaction's pre-commit until it has ended, WAL flush included, so every such transaction commits one after
 * another (measured: 930 → 330–470 tx/s with durable commits). Instead, once the transaction has committed
 * (TypeORM's afterTransactionCommit), relays in this process are woken directly, and when none of them leads for
 * that database, a NOTIFY is sent on its own — a transaction that writes no WAL, so it does not wait for a flush —
 * coalesced so that a burst of commits costs one or two. Writers that commit some other way are picked up by the
 * relay's poll.
 */
export class OutboxSignal {
  private readonly relays = new Map<string, Set<LocalRelay>>();
  private readonly pending = new WeakSet<QueryRunner>();
  private readonly subscribers = new WeakMap<DataSource, EntitySubscriberInterface>();
  private readonly notifying = new Map<string, { again: boolean }>();
  private readonly keys = new WeakMap<DataSource, string>();

  /** A relay in this process, for the database `key` (see `databaseKey`); returns the unregister function. */
  register(key: string, relay: LocalRelay): () => void {
    let set = this.relays.get(key);
    if (!set) this.relays.set(key, (set = new Set()));
    set.add(relay);
    return () => {
      set.delete(relay);
      if (set.size === 0 && this.relays.get(key) === set) this.relays.delete(key);
    };
  }

  /** Outbox rows were written with `manager`: signal now if they are committed already, else at commit. */
  enqueued(manager: EntityManager): void {
    const runner = manager.queryRunner;
    if (runner?.isTransactionActive) {
      this.hook(manager.connection);
      this.pending.add(runner);
    } else {
      this.committed(manager.connection);
    }
  }

  private hook(dataSource: DataSource): void {
    let subscriber = this.subscribers.get(dataSource);
    if (!subscriber) {
      subscriber = {
        afterTransactionCommit: ({ queryRunner }) => {
          // Also called when a nested transaction releases its savepoint: wait for the real commit.
          if (queryRunner.isTransactionActive || !this.pending.has(queryRunner)) return;
          this.pending.delete(queryRunner);
          this.committed(dataSource);
        },
        afterTransactionRollback: ({ queryRunner }) => {
          if (!queryRunner.isTransactionActive) this.pending.delete(queryRunner);
        },
      };
      this.subscribers.set(dataSource, subscriber);
    }
    // DataSource.initialize() replaces the subscriber list, so check it is still there.
    if (!dataSource.subscribers.includes(subscriber)) dataSource.subscribers.push(subscriber);
  }

  private committed(dataSource: DataSource): void {
    let key = this.keys.get(dataSource);
    if (key === undefined) this.keys.set(dataSource, (key = databaseKey(pgClientConfig(dataSource, ''))));
    const local = [...(this.relays.get(key) ?? [])];
    local.forEach((relay) => relay.wake());
    if (!local.some((relay) => relay.isLeader())) this.notify(dataSource, key);
  }

  private notify(dataSource: DataSource, key: string): void {
    const inFlight = this.notifying.get(key);
    if (inFlight) {
      inFlight.again = true;
      return;
    }
    const state = { again: false };
    this.notifying.set(key, state);
    const send = (): void => {
      state.again = false;
      dataSource
        .query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`)
        // A lost notification only delays publishing until the relay's next poll.
        .catch(() => undefined)
        .then(() => (state.again ? send() : this.notifying.delete(key)));
    };
    send();
  }
}

/** Identifies a database well enough to tell whether a relay in this process serves it. */
export function databaseKey(config: ClientConfig): string {
  return JSON.stringify([config.connectionString ?? null, config.host ?? null, config.port ?? null, config.database ?? null]);
}

export const outboxSignal = new OutboxSignal();
