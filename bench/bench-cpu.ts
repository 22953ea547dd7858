import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SEC = 100;

/** CPU time (ms, user + system) used so far by each running process whose command name `match`es, by pid (from /proc). */
export function cpuByProcess(match: (command: string) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!match(stat.slice(stat.indexOf('(') + 1, close))) continue;
      const f = stat.slice(close + 2).split(' ');
      out.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS_PER_SEC); // utime, stime (fields 14, 15)
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** CPU time used between two `cpuByProcess` samples by the processes of the second (one that ended is left out). */
export function cpuSince(before: Map<string, number>, after: Map<string, number>): number {
  let ms = 0;
  for (const [pid, t] of after) ms += t - (before.get(pid) ?? 0);
  return ms;
}

/** Every PostgreSQL process of the machine. */
export const isPostgres = (command: string) => command.startsWith('postgres');
/** The Kafka broker (the only JVM the benchmarks start). */
export const isJava = (command: string) => command === 'java';
