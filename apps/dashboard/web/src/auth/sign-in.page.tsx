import { useState } from 'react';
import { api, ApiError } from '../api/client';

/** Client id + secret → an access token kept in sessionStorage only. */
export function SignInPage() {
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(undefined);
    if (!clientId.trim() || !secret) {
      setError('Enter the application\'s client id and client secret.');
      return;
    }
    setBusy(true);
    try {
      await api.signIn(clientId.trim(), secret);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Unknown client id or wrong secret.' : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={submit} data-testid="signin-form">
        <div className="brand big">
          <span className="logo">fn</span> chatfn
        </div>
        <p className="muted">Sign in with your application's API credentials to manage its chat functions and runtime.</p>
        <div className="field">
          <label className="label" htmlFor="client-id">Client ID</label>
          <input id="client-id" className="input" autoComplete="username" value={clientId} onChange={(e) => setClientId(e.target.value)} data-testid="client-id" autoFocus />
        </div>
        <div className="field">
          <label className="label" htmlFor="client-secret">Client secret</label>
          <input id="client-secret" className="input" type="password" autoComplete="current-password" value={secret} onChange={(e) => setSecret(e.target.value)} data-testid="client-secret" />
        </div>
        {error && <div className="field-error" role="alert" data-testid="signin-error">{error}</div>}
        <button className="btn btn-primary wide" disabled={busy} data-testid="signin-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">The access token stays in this browser tab's session storage.</p>
      </form>
    </div>
  );
}
