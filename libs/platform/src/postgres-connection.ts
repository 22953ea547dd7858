/** What TypeORM's postgres driver needs to connect, from a `DATABASE_URL`. */
export interface PostgresConnection {
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  database?: string;
}

/**
 * The connection fields of a `DATABASE_URL`. libpq's `?host=/a/directory` form connects over the unix socket in that
 * directory (TypeORM's URL parser would drop the query string, so the fields are given one by one); any other URL is
 * passed through unchanged. The embedded default uses the socket: a round trip over it costs about half as much as
 * over TCP loopback here.
 */
export function postgresConnection(databaseUrl: string): PostgresConnection {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return { url: databaseUrl };
  }
  const socketDir = url.searchParams.get('host');
  if (!socketDir?.startsWith('/')) return { url: databaseUrl };
  return {
    host: socketDir,
    port: url.port ? Number(url.port) : 5432,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
  };
}
