import { useState } from 'react';
import { api } from '../api/client';
import type { ChatFunction } from '../api/types';
import { ErrorBanner, FieldError, isFieldError } from '../ui/components';

/** Timeout and (for blocking triggers) the failure policy applied when the function cannot answer in time. */
export function SettingsPanel({ fn, onChanged }: { fn: ChatFunction; onChanged: (f: ChatFunction) => void }) {
  const [timeout, setTimeoutMs] = useState(String(fn.timeout_ms));
  const [policy, setPolicy] = useState(fn.failure_policy);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setSaved(false);
    const t = Number(timeout);
    setBusy(true);
    try {
      onChanged(await api.settings(fn.id, { // a non-number goes as typed: the server's 400 names the field
        timeout_ms: timeout.trim() !== '' && Number.isFinite(t) ? t : timeout,
        failure_policy: policy }));
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={save} data-testid="settings-form">
      <div className="field">
        <label className="label" htmlFor="timeout">Timeout (ms)</label>
        <input id="timeout" className="input" inputMode="numeric" value={timeout} onChange={(e) => setTimeoutMs(e.target.value)} data-testid="timeout-input" />
        <FieldError error={error} field="timeout_ms" testId="timeout-error" />
        <p className="hint">{fn.blocking ? 'The chat action waits at most this long for the verdict.' : 'The invocation fails (and is retried) after this long.'}</p>
      </div>
      <div className="field">
        <label className="label" htmlFor="policy">Failure policy</label>
        <select id="policy" className="input" value={policy} onChange={(e) => setPolicy(e.target.value as ChatFunction['failure_policy'])} data-testid="policy-select">
          <option value="deny">Fail closed — deny the action</option>
          <option value="allow">Fail open — allow the action</option>
        </select>
        <FieldError error={error} field="failure_policy" />
        <p className="hint">
          {fn.blocking ? 'Applied when the function times out or no executor is available. A thrown error always denies.' : 'Only blocking triggers use the failure policy.'}
        </p>
      </div>
      {!isFieldError(error, ['timeout_ms', 'failure_policy']) && <ErrorBanner error={error} />}
      <div className="row-end">
        {saved && <span className="ok small">Saved</span>}
        <button className="btn btn-secondary" disabled={busy} data-testid="save-settings">Save settings</button>
      </div>
    </form>
  );
}
