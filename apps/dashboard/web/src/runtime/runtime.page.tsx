import { useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import type { Runtime, RuntimeBuild } from '../api/types';
import { CodeEditor } from '../editor/code-editor';
import { Badge, ErrorBanner, FieldError, formatTime, isFieldError, Pre, Spinner, statusTone, useLoad } from '../ui/components';

interface DepRow {
  key: number;
  name: string;
  version: string;
  locked: boolean;
}
interface EnvRow {
  key: number;
  name: string;
  value: string;
  revealed: boolean;
}
let keys = 0;

/** The application's NodeJS runtime: dependencies, initialization script, environment variables and builds. */
export function RuntimePage() {
  const rt = useLoad(() => api.runtime(), []);
  const [deps, setDeps] = useState<DepRow[]>([]);
  const [env, setEnv] = useState<EnvRow[]>([]);
  const [script, setScript] = useState('');
  const [error, setError] = useState<{ part: 'deps' | 'env' | 'script'; error: unknown }>();
  const [saving, setSaving] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [kick, setKick] = useState(0);

  const reset = (r: Runtime) => {
    setDeps(r.dependencies.map((d) => ({ key: ++keys, name: d.name, version: d.version, locked: d.default_dependency })));
    setEnv(Object.entries(r.environment_variables).map(([name, value]) => ({ key: ++keys, name, value, revealed: false })));
    setScript(r.initialization_script.script);
  };
  useEffect(() => {
    if (rt.data) reset(rt.data);
  }, [rt.data]);

  const userDeps = deps.filter((d) => !d.locked);

  const run = async (part: 'deps' | 'env' | 'script', fn: () => Promise<Runtime>) => {
    setError(undefined);
    setSaved(undefined);
    setSaving(part);
    try {
      const r = await fn();
      rt.setData(r);
      setSaved(part);
      setKick((k) => k + 1);
    } catch (e) {
      setError({ part, error: e });
    } finally {
      setSaving(undefined);
    }
  };

  const saveDeps = () => run('deps', () => api.putDependencies(userDeps.map((d) => ({ name: d.name.trim(), version: d.version.trim() }))));
  const saveEnv = () => run('env', () => api.putEnvironment(Object.fromEntries(env.map((e) => [e.name.trim(), e.value]))));
  const saveScript = () => run('script', () => api.putInitScript(script));

  const err = (part: 'deps' | 'env' | 'script') => (error?.part === part ? error.error : undefined);

  if (rt.loading && !rt.data) return <div className="page"><Spinner label="Loading runtime…" /></div>;
  if (!rt.data) return <div className="page"><ErrorBanner error={rt.error} /></div>;

  return (
    <div className="page page-wide">
      <header className="page-head">
        <div>
          <h1>Runtime</h1>
          <p className="muted">
            NodeJS runtime <span className="mono">{rt.data.version}</span> — shared by every function of this application. Saving a change rebuilds it.
          </p>
        </div>
      </header>
      <div className="grid-2">
        <section className="card" data-testid="dependencies-card">
          <div className="card-head">
            <span className="card-title">NPM dependencies</span>
            <button className="btn btn-small" onClick={() => setDeps([...deps, { key: ++keys, name: '', version: '', locked: false }])} data-testid="add-dependency">
              + Add
            </button>
          </div>
          <table className="table compact">
            <thead>
              <tr>
                <th>Package</th>
                <th>Version</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {deps.map((d) => {
                const i = userDeps.indexOf(d);
                const update = (patch: Partial<DepRow>) => setDeps(deps.map((x) => (x.key === d.key ? { ...x, ...patch } : x)));
                return (
                  <tr key={d.key} data-testid={`dependency-row-${d.locked ? d.name : i}`}>
                    <td>
                      <input className="input" value={d.name} disabled={d.locked} placeholder="lodash" onChange={(e) => update({ name: e.target.value })} data-testid="dep-name" aria-label="package name" />
                      {!d.locked && <FieldError error={err('deps')} field={`[${i}].name`} />}
                    </td>
                    <td>
                      <input className="input" value={d.version} disabled={d.locked} placeholder="4.17.21" onChange={(e) => update({ version: e.target.value })} data-testid="dep-version" aria-label="version" />
                      {!d.locked && <FieldError error={err('deps')} field={`[${i}].version`} />}
                    </td>
                    <td className="nowrap">
                      {d.locked ? (
                        <Badge tone="grey">default</Badge>
                      ) : (
                        <button className="btn btn-link danger" onClick={() => setDeps(deps.filter((x) => x.key !== d.key))} aria-label={`remove ${d.name}`}>
                          Remove
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {!isFieldError(err('deps'), [/^\[\d+\]\.(name|version)$/]) && <ErrorBanner error={err('deps')} />}
          <div className="row-end">
            {saved === 'deps' && <span className="ok small">Saved — building</span>}
            <button className="btn btn-primary" onClick={saveDeps} disabled={saving !== undefined} data-testid="save-dependencies">
              {saving === 'deps' ? 'Saving…' : 'Save dependencies'}
            </button>
          </div>
        </section>

        <section className="card" data-testid="environment-card">
          <div className="card-head">
            <span className="card-title">Environment variables</span>
            <button className="btn btn-small" onClick={() => setEnv([...env, { key: ++keys, name: '', value: '', revealed: true }])} data-testid="add-env">
              + Add
            </button>
          </div>
          {env.length === 0 ? (
            <p className="muted small pad">No variables. Functions read them from <code>process.env</code>.</p>
          ) : (
            <table className="table compact">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Value</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {env.map((v) => {
                  const update = (patch: Partial<EnvRow>) => setEnv(env.map((x) => (x.key === v.key ? { ...x, ...patch } : x)));
                  return (
                    <tr key={v.key}>
                      <td>
                        <input className="input mono" value={v.name} placeholder="API_KEY" onChange={(e) => update({ name: e.target.value })} data-testid="env-name" aria-label="variable name" />
                        <FieldError error={err('env')} field={v.name.trim() || '\u0000'} />
                      </td>
                      <td>
                        <div className="reveal">
                          <input className="input mono" type={v.revealed ? 'text' : 'password'} value={v.value} onChange={(e) => update({ value: e.target.value })} data-testid="env-value" aria-label="value" autoComplete="off" />
                          <button className="btn btn-link small" onClick={() => update({ revealed: !v.revealed })}>{v.revealed ? 'Hide' : 'Reveal'}</button>
                        </div>
                      </td>
                      <td>
                        <button className="btn btn-link danger" onClick={() => setEnv(env.filter((x) => x.key !== v.key))} aria-label={`remove ${v.name}`}>
                          Remove
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {!isFieldError(err('env'), env.map((v) => v.name.trim())) && <ErrorBanner error={err('env')} />}
          <div className="row-end">
            {saved === 'env' && <span className="ok small">Saved</span>}
            <button className="btn btn-primary" onClick={saveEnv} disabled={saving !== undefined} data-testid="save-environment">
              {saving === 'env' ? 'Saving…' : 'Save variables'}
            </button>
          </div>
        </section>
      </div>

      <section className="card">
        <div className="card-head">
          <span className="card-title">Initialization script</span>
          <span className="muted small">Runs once per warm runner, before the first handler call.</span>
        </div>
        <CodeEditor value={script} onChange={setScript} language="typescript" path="file:///runtime/init.ts" onSave={saveScript} height={180} testId="init-editor" />
        <FieldError error={err('script')} field="script" />
        {!isFieldError(err('script'), ['script']) && <ErrorBanner error={err('script')} />}
        <div className="row-end">
          {saved === 'script' && <span className="ok small">Saved — building</span>}
          <button className="btn btn-primary" onClick={saveScript} disabled={saving !== undefined} data-testid="save-init-script">
            {saving === 'script' ? 'Saving…' : 'Save script'}
          </button>
        </div>
      </section>

      <BuildsCard kick={kick} />
    </div>
  );
}

const ACTIVE = ['REQUESTED', 'STARTED'];

/** The latest build with its log, live while building (fast polling), plus recent history. */
function BuildsCard({ kick }: { kick: number }) {
  // Poll fast while a build runs and for a while after a save (the new build may not be listed yet).
  const [boost, setBoost] = useState(false);
  const [active, setActive] = useState(false);
  const builds = useLoad(() => api.builds(8), [], active || boost ? 1000 : 5000);
  const latest: RuntimeBuild | undefined = builds.data?.items[0];
  const logRef = useRef<HTMLPreElement>(null);

  useEffect(() => {
    if (!kick) return;
    setBoost(true);
    void builds.reload();
    const t = setTimeout(() => setBoost(false), 15_000);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [kick]);

  useEffect(() => {
    setActive(latest ? ACTIVE.includes(latest.status) : false);
  }, [latest]);

  useEffect(() => {
    if (logRef.current) logRef.current.scrollTop = logRef.current.scrollHeight;
  }, [latest?.logs]);

  return (
    <section className="card" data-testid="builds-card">
      <div className="card-head">
        <span className="card-title">Build</span>
        {latest && (
          <span className="kv">
            <Badge tone={statusTone(latest.status)} testId="build-status">{latest.status}</Badge>
            {active && <Spinner />}
            <span className="muted small">
              revision {latest.runtimeRevision} · {latest.reason} · {latest.driver}
              {latest.reused ? ' · reused cached layer' : ''} · {formatTime(latest.createdTime)}
            </span>
          </span>
        )}
      </div>
      <ErrorBanner error={builds.error} />
      {!latest ? (
        <p className="muted small pad">No builds yet: the first change of dependencies or script starts one.</p>
      ) : (
        <>
          {latest.error && (
            <Pre tone="error" testId="build-error">{latest.error}</Pre>
          )}
          <pre className="pre log" ref={logRef} data-testid="build-log">{latest.logs || (active ? 'waiting for output…' : '(no output)')}</pre>
          {builds.data && builds.data.items.length > 1 && (
            <details className="history">
              <summary>Earlier builds</summary>
              <ul>
                {builds.data.items.slice(1).map((b) => (
                  <li key={b.id}>
                    <Badge tone={statusTone(b.status)}>{b.status}</Badge> <span className="muted small">rev {b.runtimeRevision} · {b.reason} · {formatTime(b.createdTime)}</span>
                    {b.error && <div className="field-error">{b.error.split('\n')[0]}</div>}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </>
      )}
    </section>
  );
}
