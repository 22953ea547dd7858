/**
 * Starts a throw-away single-node KRaft Kafka for a test run via scripts/infra/kafka-start.sh
 * (jars from Maven Central, cached in ${CHATFN_CACHE_DIR:-~/.cache/chatfn}/kafka-4.3.1).
 * If KAFKA_BROKERS is already set, that cluster is used and stop() does nothing.
 */
import { join } from 'node:path';
import { REPO_ROOT, cmdline, freePorts, isAlive, killPid, log, run } from './util';

export interface KafkaHandle {
  /** comma-separated host:port list, as KAFKA_BROKERS expects */
  brokers: string;
  /** pid of the broker JVM; undefined when an external cluster is reused */
  pid?: number;
  /** state dir of the broker (server.properties, logs/, kafka.log); undefined when reused */
  dataDir?: string;
  stop(): Promise<void>;
}

const START = join(REPO_ROOT, 'scripts', 'infra', 'kafka-start.sh');
const STOP = join(REPO_ROOT, 'scripts', 'infra', 'kafka-stop.sh');

function parseKeyValues(out: string): Record<string, string> {
  const kv: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^(KAFKA_[A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv[m[1]] = m[2];
  }
  return kv;
}

/**
 * Stops a broker started by kafka-start.sh: the script (SIGTERM, wait, SIGKILL, remove temp dir), and if that
 * fails, the pid directly. Safe to call twice or for a broker that already died.
 */
export async function stopKafkaByPid(pid: number, dataDir: string): Promise<void> {
  try {
    await run('bash', [STOP, dataDir], { timeoutMs: 60_000 });
  } catch (err) {
    log(`kafka-stop.sh failed (${(err as Error).message.split('\n')[0]}); killing pid ${pid}`);
  }
  // Only signal the pid if it is still our broker (pids get reused).
  if (isAlive(pid) && cmdline(pid).includes(dataDir)) await killPid(pid);
}

export async function startKafka(): Promise<KafkaHandle> {
  const existing = process.env.KAFKA_BROKERS;
  if (existing) {
    log(`Kafka: reusing KAFKA_BROKERS=${existing}`);
    return { brokers: existing, stop: async () => {} };
  }

  let lastError: unknown;
  // A port picked as free can be taken before the broker binds it: retry with new ports.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const [port, controllerPort] = await freePorts(2);
    const started = Date.now();
    try {
      const { stdout } = await run('bash', [START], {
        env: {
          ...process.env,
          KAFKA_PORT: String(port),
          KAFKA_CONTROLLER_PORT: String(controllerPort),
          KAFKA_HOST: '127.0.0.1',
          // the caller's KAFKA_DATA_DIR would be shared between runs; always use a fresh temp dir here
          KAFKA_DATA_DIR: '',
          // the script's 60 s default is tight when a developer machine is busy with other test runs
          KAFKA_START_TIMEOUT: process.env.KAFKA_START_TIMEOUT ?? '120',
        },
        // cold start includes the Maven download of the jars
        timeoutMs: 10 * 60_000,
        echoStderr: process.env.CHATFN_INFRA_VERBOSE === '1',
      });
      const kv = parseKeyValues(stdout);
      const pid = Number(kv.KAFKA_PID);
      const dataDir = kv.KAFKA_DATA_DIR;
      const brokers = kv.KAFKA_BROKERS;
      if (!pid || !dataDir || !brokers) throw new Error(`kafka-start.sh printed no KAFKA_PID/DATA_DIR/BROKERS:\n${stdout}`);
      log(`Kafka ready at ${brokers} (pid ${pid}, ${dataDir}) in ${Date.now() - started} ms`);
      let stopped: Promise<void> | undefined;
      return {
        brokers,
        pid,
        dataDir,
        stop: () => (stopped ??= stopKafkaByPid(pid, dataDir)),
      };
    } catch (err) {
      lastError = err;
      const msg = (err as Error).message;
      if (!/already in use|Address already in use|BindException/.test(msg) || attempt === 3) break;
      log(`Kafka: port clash on attempt ${attempt}, retrying`);
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
