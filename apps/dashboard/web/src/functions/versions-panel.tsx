import { useState } from 'react';
import { api } from '../api/client';
import type { ChatFunction, FunctionVersion } from '../api/types';
import { DiffEditor } from '../editor/code-editor';
import { Badge, Empty, ErrorBanner, formatTime, Spinner, useLoad } from '../ui/components';

/** Version history: diff of any version against the current one, one-click rollback. */
export function VersionsPanel({ fn, current, onRolledBack }: { fn: ChatFunction; current: FunctionVersion | null; onRolledBack: (v: FunctionVersion) => void }) {
  const { data, error, loading } = useLoad(() => api.versions(fn.id), [fn.id, current?.id]);
  const [selected, setSelected] = useState<number>();
  const [busy, setBusy] = useState<number>();
  const [rbError, setRbError] = useState<unknown>();

  const versions = data?.items ?? [];
  const chosen = versions.find((v) => v.version_number === selected) ?? versions.find((v) => v.version_number !== fn.current_version_number);

  const rollback = async (n: number) => {
    setBusy(n);
    setRbError(undefined);
    try {
      onRolledBack(await api.rollback(fn.id, n));
      setSelected(undefined);
    } catch (e) {
      setRbError(e);
    } finally {
      setBusy(undefined);
    }
  };

  if (loading && !data) return <Spinner label="Loading versions…" />;
  return (
    <div className="versions" data-testid="versions-panel">
      <ErrorBanner error={error ?? rbError} />
      {versions.length === 0 ? (
        <Empty>No versions yet. Save the editor to deploy version 1.</Empty>
      ) : (
        <ul className="version-list">
          {versions.map((v) => {
            const isCurrent = v.version_number === fn.current_version_number;
            return (
              <li
                key={v.id}
                className={`version ${chosen?.id === v.id ? 'selected' : ''}`}
                onClick={() => setSelected(v.version_number)}
                data-testid={`version-${v.version_number}`}
              >
                <div>
                  <span className="mono strong">v{v.version_number}</span>
                  {isCurrent && <Badge tone="green">current</Badge>}
                  {v.rolled_back_from !== undefined && <Badge tone="amber">rollback of v{v.rolled_back_from}</Badge>}
                  <div className="muted small">{formatTime(v.created_time)}</div>
                </div>
                {!isCurrent && (
                  <button
                    className="btn btn-small"
                    disabled={busy !== undefined}
                    onClick={(e) => {
                      e.stopPropagation();
                      void rollback(v.version_number);
                    }}
                    data-testid={`rollback-${v.version_number}`}
                  >
                    {busy === v.version_number ? 'Rolling back…' : 'Roll back'}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {chosen && current && chosen.version_number !== fn.current_version_number && (
        <div className="diff-block">
          <div className="row-between">
            <span className="label">v{chosen.version_number} → v{current.version_number} (current)</span>
          </div>
          <DiffEditor original={chosen.handler_script} modified={current.handler_script} height={300} />
        </div>
      )}
    </div>
  );
}
