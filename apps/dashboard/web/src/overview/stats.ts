/** Per-minute invocation statistics computed in the browser from the invocation list. */

export interface InvocationSample {
  created_time: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  duration_ms: number | null;
}

export interface MinuteBucket {
  /** Start of the minute (ms since epoch). */
  t: number;
  count: number;
  failed: number;
  /** failed / finished (0..1), null when nothing finished in the minute. */
  errorRate: number | null;
  p50: number | null;
  p99: number | null;
}

export interface WindowStats {
  buckets: MinuteBucket[];
  total: number;
  failed: number;
  errorRate: number | null;
  p50: number | null;
  p99: number | null;
  perMinute: number;
}

/** Nearest-rank percentile of an ascending array (null when empty). */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Buckets the invocations of the last `minutes` minutes before `now` into one bucket per minute (oldest first). */
export function windowStats(invocations: InvocationSample[], now: number, minutes = 60): WindowStats {
  const end = Math.floor(now / 60_000) * 60_000 + 60_000;
  const start = end - minutes * 60_000;
  const per: { count: number; failed: number; finished: number; durations: number[] }[] = Array.from({ length: minutes }, () => ({
    count: 0,
    failed: 0,
    finished: 0,
    durations: [],
  }));
  const all: number[] = [];
  let total = 0;
  let failed = 0;
  let finished = 0;
  for (const inv of invocations) {
    const t = Date.parse(inv.created_time);
    if (!(t >= start && t < end)) continue;
    const b = per[Math.floor((t - start) / 60_000)];
    b.count++;
    total++;
    if (inv.status !== 'RUNNING') {
      b.finished++;
      finished++;
    }
    if (inv.status === 'FAILED') {
      b.failed++;
      failed++;
    }
    if (inv.duration_ms !== null && inv.status !== 'RUNNING') {
      b.durations.push(inv.duration_ms);
      all.push(inv.duration_ms);
    }
  }
  all.sort((a, b) => a - b);
  return {
    buckets: per.map((b, i) => {
      const d = b.durations.sort((x, y) => x - y);
      return {
        t: start + i * 60_000,
        count: b.count,
        failed: b.failed,
        errorRate: b.finished ? b.failed / b.finished : null,
        p50: percentile(d, 50),
        p99: percentile(d, 99),
      };
    }),
    total,
    failed,
    errorRate: finished ? failed / finished : null,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    perMinute: total / minutes,
  };
}
