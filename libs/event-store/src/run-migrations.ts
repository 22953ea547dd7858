import { DataSource, Migration } from 'typeorm';
import { ADVISORY_LOCK_NAMESPACE, MIGRATIONS_LOCK } from './advisory-locks';

/**
 * Runs the DataSource's pending migrations in one transaction while holding a session advisory lock, so services
 * starting at once against one database run them one after another (TypeORM itself creates its migrations table
 * and reads the executed list outside any lock). Needs a pool of at least two connections: one holds the lock.
 */
export async function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  const lock = dataSource.createQueryRunner('master');
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1, $2)', [ADVISORY_LOCK_NAMESPACE, MIGRATIONS_LOCK]);
    try {
      return await dataSource.runMigrations({ transaction: 'all' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_LOCK_NAMESPACE, MIGRATIONS_LOCK]);
    }
  } finally {
    await lock.release();
  }
}
