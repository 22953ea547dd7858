import { percentile, windowStats } from './stats';

const NOW = Date.parse('2026-01-15T10:30:20.000Z');
const at = (minAgo: number, status: 'SUCCEEDED' | 'FAILED' | 'RUNNING', duration: number | null) => ({
  created_time: new Date(NOW - minAgo * 60_000).toISOString(),
  status,
  duration_ms: duration,
});

describe('overview statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('buckets the last hour per minute, ignoring older invocations', () => {
    const s = windowStats([at(0, 'SUCCEEDED', 10), at(0, 'FAILED', 30), at(5, 'SUCCEEDED', 20), at(61, 'SUCCEEDED', 1)], NOW);
    expect(s.buckets).toHaveLength(60);
    expect(s.total).toBe(3);
    expect(s.failed).toBe(1);
    expect(s.errorRate).toBeCloseTo(1 / 3);
    expect(s.p50).toBe(20);
    expect(s.p99).toBe(30);
    const last = s.buckets[59];
    expect(last.count).toBe(2);
    expect(last.errorRate).toBe(0.5);
    expect(last.p50).toBe(10);
    expect(s.buckets[54].count).toBe(1);
    expect(s.buckets[0].errorRate).toBeNull();
  });

  it('counts running invocations but not in error rate or latency', () => {
    const s = windowStats([at(1, 'RUNNING', null), at(1, 'SUCCEEDED', 5)], NOW);
    expect(s.total).toBe(2);
    expect(s.errorRate).toBe(0);
    expect(s.p99).toBe(5);
  });
});
