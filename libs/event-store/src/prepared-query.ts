import { PoolClient } from 'pg';
import { EntityManager } from 'typeorm';

/**
 * Runs one of the store's fixed statements as a named prepared statement on the manager's connection (inside its
 * transaction, if any), so PostgreSQL plans it once per connection: planning was two thirds of an append's server
 * time. TypeORM's `query()` cannot name statements, so this goes to the pg client under the query runner.
 * Needs session-level connections (not a transaction-mode pgbouncer older than 1.21).
 */
export async function preparedQuery<R>(
  manager: EntityManager,
  name: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  const owned = manager.queryRunner ? undefined : manager.connection.createQueryRunner();
  const runner = manager.queryRunner ?? owned!;
  if (runner.isReleased) throw new Error('the query runner of this EntityManager has been released');
  try {
    const client = (await runner.connect()) as PoolClient;
    const result = await client.query<R & object>({ name, text, values });
    return result.rows;
  } finally {
    await owned?.release();
  }
}
