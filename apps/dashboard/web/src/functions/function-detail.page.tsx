import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { ChatFunction, FunctionVersion } from '../api/types';
import { CodeEditor } from '../editor/code-editor';
import { useTriggerTypings } from '../editor/monaco-setup';
import { Link } from '../router';
import { Badge, ErrorBanner, FieldError, isFieldError, Spinner } from '../ui/components';
import { starterScript } from './sample-events';
import { SettingsPanel } from './settings-panel';
import { TestPanel } from './test-panel';
import { VersionsPanel } from './versions-panel';

type Tab = 'test' | 'versions' | 'settings';

/** Editor, deploy, enable/disable, test, versions and settings of one function. */
export function FunctionDetailPage({ id }: { id: number }) {
  const [fn, setFn] = useState<ChatFunction>();
  const [current, setCurrent] = useState<FunctionVersion | null>(null);
  const [draft, setDraft] = useState<string>('');
  const [loadError, setLoadError] = useState<unknown>();
  const [saveError, setSaveError] = useState<unknown>();
  const [saving, setSaving] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [tab, setTab] = useState<Tab>('test');
  const [versionsKey, setVersionsKey] = useState(0);

  const load = useCallback(async () => {
    try {
      const f = await api.fn(id);
      useTriggerTypings(f.type);
      let v: FunctionVersion | null = null;
      if (f.current_version_number > 0) v = await api.currentVersion(id);
      setFn(f);
      setCurrent(v);
      setDraft(v ? v.handler_script : starterScript(f.type, f.blocking));
      setLoadError(undefined);
    } catch (e) {
      setLoadError(e);
    }
  }, [id]);

  useEffect(() => {
    setFn(undefined);
    void load();
  }, [load]);

  const dirty = fn !== undefined && draft !== (current?.handler_script ?? starterScript(fn.type, fn.blocking));
  const canSave = fn !== undefined && (dirty || !current);

  const save = useCallback(async () => {
    if (!fn || saving) return;
    setSaving(true);
    setSaveError(undefined);
    setNotice(undefined);
    try {
      const v = await api.deploy(fn.id, draft);
      setCurrent(v);
      setFn(await api.fn(fn.id));
      setNotice(`Deployed version ${v.version_number}`);
      setVersionsKey((k) => k + 1);
    } catch (e) {
      setSaveError(e);
    } finally {
      setSaving(false);
    }
  }, [fn, draft, saving]);

  const toggle = async () => {
    if (!fn) return;
    setSaveError(undefined);
    try {
      setFn(await api.setEnabled(fn.id, !fn.enabled));
    } catch (e) {
      setSaveError(e);
    }
  };

  const afterRollback = async (v: FunctionVersion) => {
    setCurrent(v);
    setDraft(v.handler_script);
    setFn(await api.fn(id));
    setNotice(`Rolled back: version ${v.version_number} is a copy of version ${v.rolled_back_from}`);
    setVersionsKey((k) => k + 1);
  };

  if (loadError) return <div className="page"><ErrorBanner error={loadError} /></div>;
  if (!fn) return <div className="page"><Spinner label="Loading function…" /></div>;

  return (
    <div className="page page-wide">
      <div className="crumbs">
        <Link to="/functions">Functions</Link> <span className="muted">/</span> <span>{fn.name}</span>
      </div>
      <header className="page-head">
        <div>
          <h1 className="with-badges">
            {fn.name}
            {fn.blocking && <Badge tone="violet">Blocking</Badge>}
            <Badge tone={fn.enabled ? 'green' : 'grey'} testId="fn-state">{fn.enabled ? 'Enabled' : 'Disabled'}</Badge>
          </h1>
          <p className="muted">
            <code>{fn.type}</code> · {fn.current_version_number > 0 ? <span data-testid="current-version">current version v{fn.current_version_number}</span> : 'no version deployed yet'}
            {dirty && <span className="dirty"> · unsaved changes</span>}
          </p>
        </div>
        <div className="actions">
          <label className="switch" title={fn.enabled ? 'Disable' : 'Enable'}>
            <input type="checkbox" checked={fn.enabled} onChange={toggle} data-testid="enable-toggle" />
            <span className="slider" />
            <span>{fn.enabled ? 'Enabled' : 'Disabled'}</span>
          </label>
          <button className="btn btn-primary" onClick={save} disabled={!canSave || saving} data-testid="save-deploy" title="Save and deploy (Ctrl/Cmd+S)">
            {saving ? 'Deploying…' : 'Save & deploy'}
          </button>
        </div>
      </header>
      {notice && <div className="banner banner-ok" data-testid="notice">{notice}</div>}
      {!isFieldError(saveError, ['handler_script']) && <ErrorBanner error={saveError} />}
      <div className="split">
        <section className="card editor-card">
          <div className="card-head">
            <span className="card-title">handler.ts</span>
            <span className="muted small">async function handleEvent(event, context) · Ctrl/Cmd+S deploys</span>
          </div>
          <CodeEditor value={draft} onChange={setDraft} language="typescript" path={`file:///functions/${fn.id}/handler.ts`} onSave={save} height="min(62vh, 620px)" testId="handler-editor" />
          <FieldError error={saveError} field="handler_script" testId="handler-error" />
        </section>
        <section className="card side-card">
          <div className="tabs" role="tablist">
            {(['test', 'versions', 'settings'] as Tab[]).map((t) => (
              <button key={t} role="tab" className={`tab ${tab === t ? 'active' : ''}`} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
                {t === 'test' ? 'Test' : t === 'versions' ? 'Versions' : 'Settings'}
              </button>
            ))}
          </div>
          <div className="tab-body">
            {tab === 'test' && <TestPanel fn={fn} draft={draft} />}
            {tab === 'versions' && <VersionsPanel key={versionsKey} fn={fn} current={current} onRolledBack={afterRollback} />}
            {tab === 'settings' && <SettingsPanel fn={fn} onChanged={setFn} />}
          </div>
        </section>
      </div>
    </div>
  );
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404;
}
