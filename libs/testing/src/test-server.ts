import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@chatfn/config';
import { RunningService, ServiceDefinition, startService } from '@chatfn/platform';
import { createTestDatabase } from './database';

export interface TestApplication {
  id: number;
  name: string;
  client_id: string;
  client_secret: string;
  api_key: string;
}

export interface TestServer extends RunningService {
  adminToken: string;
  /** Creates an application through the admin API and returns its credentials. */
  createApplication(name?: string): Promise<TestApplication>;
  /** SDK configuration for an application: `new ChatKitty(server.sdkConfig(app))`. */
  sdkConfig(app: TestApplication): { clientId: string; clientSecret: string; basePath: string; authorizationBasePath: string };
  /** An access token for the application (client credentials at `/oauth/token`), for raw HTTP requests. */
  accessToken(app: TestApplication): Promise<string>;
}

export interface TestServerOptions {
  /** Use the Kafka broker of the jest global setup instead of the in-process bus. */
  kafka?: boolean;
  driver?: 'process' | 'docker';
  env?: Record<string, string>;
  /** Defaults to the all-in-one service. */
  definition?: ServiceDefinition;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts chatfn in this process against a fresh database, on a free port. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'chatfn-test-'));
  const adminToken = randomBytes(24).toString('hex');
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    CHATFN_DATA_DIR: dataDir,
    CHATFN_ADMIN_TOKEN: adminToken,
    CHATFN_TOKEN_SECRET: randomBytes(32).toString('hex'),
    CHATFN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    EXECUTOR_DRIVER: opts.driver ?? 'process',
    LOG_LEVEL: 'warn',
    CHATFN_INSTANCE_ID: `test-${port}`,
    ...opts.env,
  };
  if (opts.kafka) {
    if (!process.env.KAFKA_BROKERS) throw new Error('KAFKA_BROKERS is not set: the jest global setup starts Kafka');
    env.KAFKA_BROKERS = process.env.KAFKA_BROKERS;
    // Suites share the broker: each server its own topics and groups, so none sees what another left behind.
    env.CHATFN_KAFKA_NAMESPACE ??= `t${port}-${randomBytes(3).toString('hex')}`;
  }
  // Deferred require: the all-in-one composition pulls in every service.
  const def: ServiceDefinition = opts.definition ?? require('../../../apps/chatfn/chatfn.service').CHATFN_ALL_IN_ONE;
  const svc = await startService({ ...def, afterStart: undefined, embeddedDatabase: false }, loadConfig(env));
  const url = svc.url;
  return {
    ...svc,
    adminToken,
    close: async () => {
      await svc.close();
      await db.drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
    createApplication: async (name = `app-${randomBytes(4).toString('hex')}`) => {
      const res = await fetch(`${url}/admin/applications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (!res.ok) throw new Error(`creating application failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as TestApplication;
    },
    sdkConfig: (app) => ({
      clientId: app.client_id,
      clientSecret: app.client_secret,
      basePath: `${url}/v1`,
      authorizationBasePath: `${url}/oauth/token`,
    }),
    accessToken: async (app) => {
      const res = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      if (!res.ok) throw new Error(`getting an access token failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
  };
}
