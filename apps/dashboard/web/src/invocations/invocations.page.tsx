import { useState } from 'react';
import { api } from '../api/client';
import type { ChatFunction, Invocation } from '../api/types';
import { navigate, useLocation } from '../router';
import { Badge, Empty, ErrorBanner, FieldError, formatMs, formatShortTime, formatTime, json, Pre, Spinner, statusTone, useLoad } from '../ui/components';

interface Row extends Invocation {
  fn: ChatFunction;
}

async function loadInvocations(fns: ChatFunction[], q: { fn?: string; status?: string; version?: string }): Promise<Row[]> {
  const targets = q.fn ? fns.filter((f) => String(f.id) === q.fn) : fns;
  const pages = await Promise.all(
    targets.map(async (fn) => {
      const p = await api.invocations(fn.id, { status: q.status, version: q.fn ? q.version : undefined, size: 100 });
      return p.items.map((i) => ({ ...i, fn }));
    }),
  );
  return pages
    .flat()
    .sort((a, b) => b.created_time.localeCompare(a.created_time) || b.id - a.id)
    .slice(0, 200);
}

/** The invocation log: newest first, filters, detail, re-drive of dead-lettered invocations, live refresh. */
export function InvocationsPage() {
  const { query } = useLocation();
  const fnFilter = query.get('function') ?? '';
  const status = query.get('status') ?? '';
  const version = query.get('version') ?? '';
  const [live, setLive] = useState(true);
  const [selectedId, setSelectedId] = useState<string>();
  const [redriveError, setRedriveError] = useState<unknown>();
  const [redriven, setRedriven] = useState<string>();

  const fns = useLoad(() => api.functions().then((p) => p.items), []);
  const invs = useLoad(
    () => (fns.data ? loadInvocations(fns.data, { fn: fnFilter, status, version }) : Promise.resolve(undefined)),
    [fns.data, fnFilter, status, version],
    live ? 2000 : undefined,
  );

  const set = (k: string, v: string) => {
    const p = new URLSearchParams(location.search);
    if (v) p.set(k, v);
    else p.delete(k);
    if (k === 'function') p.delete('version');
    navigate(`/invocations${p.toString() ? `?${p}` : ''}`);
  };

  const rows = invs.data ?? [];
  const selected = rows.find((r) => r.invocation_id === selectedId);

  const redrive = async (r: Row) => {
    setRedriveError(undefined);
    try {
      const out = await api.redrive(r.fn.id, r.invocation_id);
      setRedriven(out.invocation_id);
      await invs.reload();
    } catch (e) {
      setRedriveError(e);
    }
  };

  return (
    <div className="page page-wide">
      <header className="page-head">
        <div>
          <h1>Invocations</h1>
          <p className="muted">Every run of a deployed function, newest first.</p>
        </div>
        <label className="switch">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} data-testid="live-toggle" />
          <span className="slider" />
          <span>Live{live && <span className="live-dot" />}</span>
        </label>
      </header>
      <div className="filters card">
        <div className="field">
          <label className="label" htmlFor="f-fn">Function</label>
          <select id="f-fn" className="input" value={fnFilter} onChange={(e) => set('function', e.target.value)} data-testid="filter-function">
            <option value="">All functions</option>
            {fns.data?.map((f) => (
              <option key={f.id} value={f.id}>
                {f.type}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="label" htmlFor="f-status">Status</label>
          <select id="f-status" className="input" value={status} onChange={(e) => set('status', e.target.value)} data-testid="filter-status">
            <option value="">Any</option>
            <option value="SUCCEEDED">Succeeded</option>
            <option value="FAILED">Failed</option>
            <option value="RUNNING">Running</option>
          </select>
        </div>
        <div className="field">
          <label className="label" htmlFor="f-version">Version</label>
          <input
            id="f-version"
            className="input"
            placeholder={fnFilter ? 'any' : 'pick a function'}
            disabled={!fnFilter}
            value={version}
            onChange={(e) => set('version', e.target.value.trim())}
            data-testid="filter-version"
          />
          <FieldError error={invs.error} field="version_number" />
        </div>
      </div>
      <ErrorBanner error={fns.error ?? (invs.error && !(invs.error as { field?: string }).field ? invs.error : undefined)} />
      <ErrorBanner error={redriveError} />
      {redriven && <div className="banner banner-ok">Re-driven as {redriven}</div>}
      <div className={`master-detail ${selected ? 'has-detail' : ''}`}>
        <div className="card table-card">
          {invs.loading && !invs.data ? (
            <Spinner label="Loading invocations…" />
          ) : rows.length === 0 ? (
            <Empty>No invocations match. Deploy and enable a function, then use the chat API.</Empty>
          ) : (
            <table className="table clickable" data-testid="invocations-table">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Function</th>
                  <th>Status</th>
                  <th>Version</th>
                  <th className="hide-narrow">Duration</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr
                    key={r.invocation_id}
                    className={r.invocation_id === selectedId ? 'selected' : ''}
                    onClick={() => setSelectedId(r.invocation_id === selectedId ? undefined : r.invocation_id)}
                    data-testid="invocation-row"
                  >
                    <td className="nowrap" title={r.created_time}>{formatShortTime(r.created_time)}</td>
                    <td>
                      <code className="small">{r.trigger_type}</code>
                    </td>
                    <td className="nowrap">
                      <Badge tone={statusTone(r.status)}>{r.status}</Badge>
                      {r.dead_lettered && <Badge tone="amber">{r.redriven_as ? 're-driven' : 'dead-lettered'}</Badge>}
                    </td>
                    <td className="mono">v{r.version_number}</td>
                    <td className="mono hide-narrow">{formatMs(r.duration_ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        {selected && (
          <aside className="card detail" data-testid="invocation-detail">
            <div className="row-between">
              <h3>
                <Badge tone={statusTone(selected.status)}>{selected.status}</Badge> <span className="mono small">{selected.invocation_id}</span>
              </h3>
              <button className="btn btn-link" onClick={() => setSelectedId(undefined)} aria-label="Close">×</button>
            </div>
            <dl className="meta">
              <dt>Function</dt>
              <dd><code>{selected.trigger_type}</code></dd>
              <dt>Version</dt>
              <dd className="mono">v{selected.version_number}</dd>
              <dt>Duration</dt>
              <dd className="mono" data-testid="detail-duration">{formatMs(selected.duration_ms)}</dd>
              <dt>Attempt</dt>
              <dd className="mono">{selected.attempt}</dd>
              <dt>Started</dt>
              <dd>{formatTime(selected.created_time)}</dd>
              <dt>Finished</dt>
              <dd>{formatTime(selected.finished_time)}</dd>
            </dl>
            {selected.dead_lettered && !selected.redriven_as && (
              <div className="banner banner-warn">
                Dead-lettered after {selected.attempt} attempt(s).{' '}
                <button className="btn btn-small" onClick={() => redrive(selected)} data-testid="redrive">Re-drive</button>
              </div>
            )}
            {selected.error && (
              <>
                <h4>Error</h4>
                <Pre tone="error">{selected.error.stack ?? `${selected.error.name}: ${selected.error.message}`}</Pre>
              </>
            )}
            <h4>Logs</h4>
            <Pre testId="detail-logs">{selected.logs || <span className="muted">(nothing logged)</span>}</Pre>
            <h4>Result</h4>
            <Pre testId="detail-result">{json(selected.result?.payload)}</Pre>
            <h4>Arguments (event)</h4>
            <Pre testId="detail-args">{json(selected.args)}</Pre>
          </aside>
        )}
      </div>
    </div>
  );
}
