import { api } from '../api/client';
import type { ChatFunction, Invocation } from '../api/types';
import { Link } from '../router';
import { Badge, Empty, ErrorBanner, formatMs, Spinner, statusTone, useLoad } from '../ui/components';
import { MiniChart } from './charts';
import { windowStats, type WindowStats } from './stats';

interface FnStats {
  fn: ChatFunction;
  stats: WindowStats;
}

const HOUR = 3_600_000;

/** The last hour of one function's invocations (pages of 500 until older than an hour, at most 5 pages). */
async function lastHour(fn: ChatFunction): Promise<Invocation[]> {
  const since = Date.now() - HOUR - 60_000;
  const out: Invocation[] = [];
  for (let page = 0; page < 5; page++) {
    const p = await api.invocations(fn.id, { size: 500, page });
    out.push(...p.items);
    const oldest = p.items[p.items.length - 1];
    if (!oldest || Date.parse(oldest.created_time) < since || page + 1 >= p.page.total_pages) break;
  }
  return out;
}

async function load() {
  const [{ items }, runtime, builds] = await Promise.all([api.functions(), api.runtime(), api.builds(1)]);
  const now = Date.now();
  const stats: FnStats[] = await Promise.all(items.map(async (fn) => ({ fn, stats: windowStats(await lastHour(fn), now) })));
  return { stats, runtime, build: builds.items[0] };
}

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)}%`);

/** Per function over the last hour: invocations per minute, error rate, p50/p99 duration. */
export function OverviewPage() {
  const { data, error, loading } = useLoad(load, [], 10_000);
  const active = data?.stats.filter((s) => s.fn.enabled || s.stats.total > 0) ?? [];
  const total = active.reduce((a, s) => a + s.stats.total, 0);
  const failed = active.reduce((a, s) => a + s.stats.failed, 0);
  return (
    <div className="page page-wide">
      <header className="page-head">
        <div>
          <h1>Overview</h1>
          <p className="muted">The last hour, refreshed every 10 seconds.</p>
        </div>
      </header>
      <ErrorBanner error={error} />
      {loading && !data ? (
        <Spinner label="Loading…" />
      ) : data ? (
        <>
          <div className="stat-row">
            <div className="stat card">
              <span className="stat-label">Invocations (1h)</span>
              <span className="stat-value" data-testid="stat-total">{total}</span>
            </div>
            <div className="stat card">
              <span className="stat-label">Error rate (1h)</span>
              <span className={`stat-value ${failed ? 'bad' : ''}`}>{total ? pct(failed / total) : '—'}</span>
            </div>
            <div className="stat card">
              <span className="stat-label">Enabled functions</span>
              <span className="stat-value">
                {data.stats.filter((s) => s.fn.enabled).length}
                <span className="muted small"> / {data.stats.length}</span>
              </span>
            </div>
            <div className="stat card">
              <span className="stat-label">Runtime</span>
              <span className="stat-value small-value">
                <span className="mono">{data.runtime.version}</span>{' '}
                {data.build && <Badge tone={statusTone(data.build.status)}>{data.build.status}</Badge>}
              </span>
            </div>
          </div>
          {active.length === 0 ? (
            <Empty>
              No function is enabled yet. Open <Link to="/functions">Functions</Link>, write a handler, save it and enable it.
            </Empty>
          ) : (
            active.map(({ fn, stats }) => (
              <section className="card fn-overview" key={fn.id} data-testid={`overview-${fn.type}`}>
                <div className="card-head">
                  <Link to={`/functions/${fn.id}`} className="fn-link">
                    <span className="fn-name">{fn.name}</span> <code className="fn-type">{fn.type}</code>
                  </Link>
                  <span className="kv small">
                    <span>{stats.total} {stats.total === 1 ? 'call' : 'calls'}</span>
                    <span>{stats.perMinute.toFixed(2)}/min</span>
                    <span>errors {pct(stats.errorRate)}</span>
                    <span>p50 {formatMs(stats.p50)}</span>
                    <span>p99 {formatMs(stats.p99)}</span>
                    <Badge tone={fn.enabled ? 'green' : 'grey'}>{fn.enabled ? 'Enabled' : 'Disabled'}</Badge>
                  </span>
                </div>
                <div className="charts">
                  <figure>
                    <figcaption>Invocations / minute</figcaption>
                    <MiniChart buckets={stats.buckets} format={(v) => (Number.isInteger(v) ? String(v) : v.toFixed(1))} series={[{ label: 'invocations', color: '#4f46e5', kind: 'bar', values: stats.buckets.map((b) => b.count) }]} />
                  </figure>
                  <figure>
                    <figcaption>Error rate</figcaption>
                    <MiniChart buckets={stats.buckets} max={1} format={(v) => `${Math.round(v * 100)}%`} series={[{ label: 'error rate', color: '#dc2626', kind: 'line', values: stats.buckets.map((b) => b.errorRate) }]} />
                  </figure>
                  <figure>
                    <figcaption>Duration p50 / p99</figcaption>
                    <MiniChart
                      buckets={stats.buckets}
                      format={(v) => (v < 10 && !Number.isInteger(v) ? `${v.toFixed(1)} ms` : formatMs(v))}
                      series={[
                        { label: 'p50', color: '#0891b2', kind: 'line', values: stats.buckets.map((b) => b.p50) },
                        { label: 'p99', color: '#d97706', kind: 'line', values: stats.buckets.map((b) => b.p99) },
                      ]}
                    />
                  </figure>
                </div>
              </section>
            ))
          )}
        </>
      ) : null}
    </div>
  );
}
