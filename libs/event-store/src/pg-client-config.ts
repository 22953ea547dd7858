import { ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

/** Connection settings for a dedicated `pg.Client` to the DataSource's primary, built the way TypeORM builds its pool. */
export function pgClientConfig(dataSource: DataSource, applicationName: string): ClientConfig {
  const options = dataSource.options as PostgresConnectionOptions;
  if (options.type !== 'postgres') {
    throw new Error(`event store needs a postgres DataSource, got ${options.type}`);
  }
  const credentials = options.replication?.master ?? options;
  const { max: _max, ...extra } = (options.extra ?? {}) as Record<string, unknown>;
  return {
    connectionString: credentials.url,
    host: credentials.host,
    port: credentials.port,
    user: credentials.username,
    password: credentials.password,
    database: credentials.database,
    ssl: credentials.ssl as ClientConfig['ssl'],
    connectionTimeoutMillis: options.connectTimeoutMS,
    ...extra,
    application_name: applicationName,
  };
}
