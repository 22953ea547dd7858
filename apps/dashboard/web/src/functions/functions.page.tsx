import { api } from '../api/client';
import type { ChatFunction, Invocation } from '../api/types';
import { Link } from '../router';
import { Badge, ErrorBanner, formatShortTime, Spinner, statusTone, useLoad } from '../ui/components';

interface Row {
  fn: ChatFunction;
  last?: Invocation;
}

async function loadRows(): Promise<Row[]> {
  const { items } = await api.functions();
  return Promise.all(
    items.map(async (fn) => {
      const inv = await api.invocations(fn.id, { size: 1 }).catch(() => undefined);
      return { fn, last: inv?.items[0] };
    }),
  );
}

/** Every trigger type with its function's state. */
export function FunctionsPage() {
  const { data, error, loading } = useLoad(loadRows, [], 5000);
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>Functions</h1>
          <p className="muted">One function per trigger type. Saving a version deploys it; enable a function to run it on live events.</p>
        </div>
      </header>
      <ErrorBanner error={error} />
      {loading && !data ? (
        <Spinner label="Loading functions…" />
      ) : (
        <div className="card table-card">
          <table className="table" data-testid="functions-table">
            <thead>
              <tr>
                <th>Trigger</th>
                <th>State</th>
                <th className="hide-narrow">Kind</th>
                <th>Version</th>
                <th className="hide-narrow">Timeout</th>
                <th>Last invocation</th>
              </tr>
            </thead>
            <tbody>
              {data?.map(({ fn, last }) => (
                <tr key={fn.id} data-testid={`function-row-${fn.type}`}>
                  <td>
                    <Link to={`/functions/${fn.id}`} className="fn-link" testId={`open-${fn.type}`}>
                      <span className="fn-name">{fn.name}</span>
                      <code className="fn-type">{fn.type}</code>
                    </Link>
                  </td>
                  <td>{fn.enabled ? <Badge tone="green">Enabled</Badge> : <Badge tone="grey">Disabled</Badge>}</td>
                  <td className="hide-narrow">{fn.blocking ? <Badge tone="violet">Blocking</Badge> : <span className="muted">Async</span>}</td>
                  <td>{fn.current_version_number > 0 ? <span className="mono">v{fn.current_version_number}</span> : <span className="muted">none</span>}</td>
                  <td className="hide-narrow mono">{fn.timeout_ms} ms</td>
                  <td>
                    {last ? (
                      <span className="last-inv">
                        <Badge tone={statusTone(last.status)}>{last.status}</Badge>
                        <span className="muted small" title={last.created_time}>{formatShortTime(last.created_time)}</span>
                      </span>
                    ) : (
                      <span className="muted">never</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
