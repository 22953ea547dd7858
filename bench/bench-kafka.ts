import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { freePortForBench } from './bench-port';

/** The repository: the first directory above this file with a package.json (from source or from any dist dir). */
const REPO_ROOT = (() => {
  for (let dir = resolve(__dirname, '..'); dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  return resolve(__dirname, '../..');
})();

export interface BenchBroker {
  brokers: string[];
  /** True when the bench started this broker (and `stop` stops it). */
  started: boolean;
  /** Stops a broker the bench started (once; also on SIGINT); nothing for KAFKA_BROKERS. */
  stop(): void;
}

/** KAFKA_BROKERS when set; otherwise an Apache Kafka broker started with scripts/infra/kafka-start.sh on free ports. */
export async function benchBroker(): Promise<BenchBroker> {
  const given = process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
  if (given?.length) return { brokers: given, started: false, stop: () => undefined };
  const out = execFileSync('bash', [join(REPO_ROOT, 'scripts/infra/kafka-start.sh')], {
    env: {
      ...process.env,
      KAFKA_PORT: String(await freePortForBench()),
      KAFKA_CONTROLLER_PORT: String(await freePortForBench()),
      KAFKA_HEAP_OPTS: process.env.KAFKA_HEAP_OPTS ?? '-Xms128m -Xmx384m',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const vars = new Map(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
  console.log(`started Kafka pid ${vars.get('KAFKA_PID')} on ${vars.get('KAFKA_BROKERS')}`);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    execFileSync('bash', [join(REPO_ROOT, 'scripts/infra/kafka-stop.sh'), vars.get('KAFKA_DATA_DIR')!], { stdio: 'inherit' });
  };
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  return { brokers: [vars.get('KAFKA_BROKERS')!], started: true, stop };
}
