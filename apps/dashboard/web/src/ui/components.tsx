import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client';

export function Badge({ tone, children, testId }: { tone: 'green' | 'red' | 'grey' | 'amber' | 'blue' | 'violet'; children: ReactNode; testId?: string }) {
  return (
    <span className={`badge badge-${tone}`} data-testid={testId}>
      {children}
    </span>
  );
}

export function statusTone(status: string | undefined): 'green' | 'red' | 'grey' | 'amber' | 'blue' {
  switch (status) {
    case 'SUCCEEDED':
      return 'green';
    case 'FAILED':
      return 'red';
    case 'RUNNING':
    case 'STARTED':
    case 'REQUESTED':
      return 'blue';
    case 'SKIPPED':
      return 'grey';
    default:
      return 'grey';
  }
}

/** A banner for an error that no single field owns. */
export function ErrorBanner({ error, testId = 'error' }: { error: unknown; testId?: string }) {
  if (!error) return null;
  const msg = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  const title = error instanceof ApiError ? `${error.status} ${error.error}` : 'Error';
  return (
    <div className="banner banner-error" role="alert" data-testid={testId}>
      <strong>{title}</strong> {msg}
    </div>
  );
}

/** The error text shown beside the field a 400 names (`field` matches exactly or as a prefix like `[0]`). */
export function FieldError({ error, field, testId }: { error: unknown; field: string | RegExp; testId?: string }) {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const f = error.field;
  if (!f) return null;
  const hit = typeof field === 'string' ? f === field : field.test(f);
  if (!hit) return null;
  return (
    <div className="field-error" role="alert" data-testid={testId ?? 'field-error'}>
      {error.detail}
    </div>
  );
}

/** True when a 400 names one of the fields the form shows beside its input (so no banner is needed). */
export function isFieldError(error: unknown, fields: (string | RegExp)[]): boolean {
  if (!(error instanceof ApiError) || error.status !== 400 || !error.field) return false;
  const f = error.field;
  return fields.some((x) => (typeof x === 'string' ? x === f : x.test(f)));
}

export function Spinner({ label }: { label?: string }) {
  return (
    <span className="spinner-wrap">
      <span className="spinner" aria-hidden />
      {label && <span className="muted">{label}</span>}
    </span>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** Loads with `fn` when `deps` change; `reload()` re-runs; `every` ms polls while the tab is visible. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[], every?: number) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const reload = useCallback(async () => {
    const n = ++seq.current;
    try {
      const v = await fnRef.current();
      if (n === seq.current) {
        setData(v);
        setError(undefined);
      }
    } catch (e) {
      if (n === seq.current) setError(e);
    } finally {
      if (n === seq.current) setLoading(false);
    }
  }, []);
  useEffect(() => {
    setLoading(true);
    void reload();
    if (!every) return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, every);
    return () => clearInterval(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, every]);
  return { data, error, loading, reload, setData };
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Time only for today, date and time otherwise (for dense tables). */
export function formatShortTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function Pre({ children, testId, tone }: { children: ReactNode; testId?: string; tone?: 'error' }) {
  return (
    <pre className={`pre ${tone === 'error' ? 'pre-error' : ''}`} data-testid={testId}>
      {children}
    </pre>
  );
}

export function json(v: unknown): string {
  return v === undefined ? 'undefined' : JSON.stringify(v, null, 2);
}
