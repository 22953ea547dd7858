import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/**
 * Every environment variable chatfn reads, in one schema (documented in the README's configuration table).
 * Parsed once at boot; nothing else reads `process.env`.
 */
export const ConfigSchema = z.object({
  // --- process / HTTP
  PORT: int(8080, 1),
  HOST: z.string().default('0.0.0.0'),
  CHATFN_DATA_DIR: z.string().default('.chatfn'),
  CHATFN_INSTANCE_ID: z.string().optional(),
  /** URL at which runners and tools reach this installation's API (default http://127.0.0.1:PORT). */
  CHATFN_PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  /** Max JSON body size, e.g. 1mb. */
  CHATFN_MAX_BODY: z.string().default('1mb'),
  /**
   * Longest message body a send or an edit may store, in characters (UTF-16 code units). Each message is copied into
   * its chat events and every recipient's notification, so one long body is stored many times over.
   */
  CHATFN_MAX_MESSAGE_LENGTH: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  /**
   * Most `<@user>` / `<#channel>` tags a message may carry. Each resolved tag puts a whole user or channel resource in
   * the message's `mentions`, which is copied like the body: 500 tags (an 8 KB body) made one message 4 MB of writes.
   */
  CHATFN_MAX_MESSAGE_MENTIONS: z.coerce.number().int().min(0).max(10_000).default(100),
  // --- infrastructure switches
  DATABASE_URL: z.string().url().optional(),
  CHATFN_EMBEDDED_PG_PORT: int(54329, 1),
  KAFKA_BROKERS: csv.optional(),
  KAFKA_PARTITIONS: int(6, 1),
  /**
   * How long the outbox relay waits after a commit wakes it, so that commits close together leave in one publish
   * (ms, 0-1000). 0 publishes at once. Over Kafka, 5 ms halves the produce and fetch requests under load.
   */
  CHATFN_OUTBOX_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(0),
  /**
   * How far V8 lets the old generation grow past what survived the last full GC before the next one, in percent
   * (0-400; V8's `--heap-growing-percent`). 0 leaves it to V8, which at a steady load picks about 10-20% and then
   * runs a full GC every few seconds; each one's marking takes a core from PostgreSQL and the broker on a small
   * machine and shows in the latency of everything in flight. 100 (the default): about one fifth as many, each
   * holding up to twice the live heap.
   */
  CHATFN_HEAP_GROWTH_PERCENT: z.coerce.number().int().min(0).max(400).default(100),
  /**
   * Prefix of every Kafka topic and consumer group of this installation (`<ns>.chat.event.recorded.v1`): several
   * installations, or test servers, can share one cluster without seeing each other's messages. Empty: none.
   */
  CHATFN_KAFKA_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{0,64}$/, 'letters, digits, "_" and "-" only, at most 64')
    .default(''),
  EXECUTOR_DRIVER: z.enum(['process', 'docker']).default('process'),
  // --- security
  CHATFN_BOOTSTRAP_CLIENT_ID: z.string().min(1).optional(),
  CHATFN_BOOTSTRAP_CLIENT_SECRET: z.string().min(8).optional(),
  CHATFN_BOOTSTRAP_APPLICATION_NAME: z.string().default('default'),
  /** Bearer token of the admin API (`/admin/*`); the admin API is off when unset. */
  CHATFN_ADMIN_TOKEN: z.string().min(16).optional(),
  /** HMAC key that signs access tokens; required when services run separately (all must share it). */
  CHATFN_TOKEN_SECRET: z.string().min(32).optional(),
  CHATFN_TOKEN_TTL_SECONDS: int(3600, 60),
  /** 32-byte key (base64 or 64 hex chars) encrypting runtime environment variables at rest. */
  CHATFN_ENCRYPTION_KEY: z.string().min(32).optional(),
  // --- storage of uploaded files
  CHATFN_FILE_STORAGE: z.enum(['local', 's3']).default('local'),
  S3_ENDPOINT: z.string().url().optional(),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  // --- builder
  CHATFN_BASE_IMAGE: z.string().default('chatfn/node-base:20'),
  RUNTIME_REGISTRY: z.string().optional(),
  CHATFN_BUILD_TIMEOUT_MS: int(300_000, 1000),
  CHATFN_NPM_REGISTRY: z.string().url().optional(),
  /** npm cache shared by runtime builds (default <CHATFN_DATA_DIR>/npm-cache). */
  CHATFN_NPM_CACHE_DIR: z.string().optional(),
  /** Build the default-dependency runtime at start-up, so a new application's first runtime needs no npm install. */
  CHATFN_BUILDER_PREWARM: bool.default('false'),
  /** Egress settings handed to npm and to build containers (nothing else of the environment is). */
  HTTP_PROXY: z.string().optional(),
  HTTPS_PROXY: z.string().optional(),
  NO_PROXY: z.string().optional(),
  /** Extra CA bundle for npm on the host (process driver); images carry their own. */
  NODE_EXTRA_CA_CERTS: z.string().optional(),
  // --- execution
  CHATFN_FUNCTION_TIMEOUT_MS: int(10_000, 10),
  CHATFN_BLOCKING_DEADLINE_MS: int(5_000, 10),
  CHATFN_MAX_ATTEMPTS: int(3, 1),
  CHATFN_RETRY_BACKOFF_MS: int(500, 0),
  CHATFN_MAX_EVENT_DEPTH: int(8, 1),
  CHATFN_RUNNER_MEMORY_MB: int(256, 32),
  CHATFN_RUNNER_CPUS: z.coerce.number().positive().default(1),
  CHATFN_RUNNER_PIDS: int(64, 8),
  CHATFN_RUNNER_IDLE_MS: int(300_000, 1000),
  CHATFN_INVOCATION_LOG_MAX_BYTES: int(65_536, 1024),
  CHATFN_INVOCATION_RETENTION_DAYS: int(30, 1),
  /**
   * Lease of an executor on the invocations it accepted (ms): it renews the lease every third of it while alive; the
   * accepted-not-finished invocations of an executor silent for longer are taken over by another executor.
   */
  CHATFN_EXECUTOR_LEASE_MS: int(15_000, 500),
  // --- real-time gateway (/rtm/websocket)
  /** Open WebSocket connections one process accepts; more are refused with HTTP 503 at the upgrade. */
  CHATFN_GATEWAY_MAX_CONNECTIONS: int(20_000, 1),
  /** Largest STOMP frame (bytes) a client may send; a larger one closes the connection with an ERROR frame. */
  CHATFN_GATEWAY_MAX_FRAME_BYTES: int(65_536, 1024),
  /** Requests (SEND and relay SUBSCRIBE frames) per second per connection, burst 2x; beyond: RateLimitedError. */
  CHATFN_GATEWAY_RATE: int(50, 1),
  /** Server-to-client STOMP heart-beat interval (ms). */
  CHATFN_GATEWAY_HEARTBEAT_MS: int(10_000, 1000),
});

export type ChatfnEnv = z.infer<typeof ConfigSchema>;
