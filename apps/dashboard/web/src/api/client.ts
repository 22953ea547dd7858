import type { ChatFunction, FunctionVersion, Invocation, Page, Runtime, RuntimeBuild, TestRunResult } from './types';

const TOKEN_KEY = 'chatfn.session';

/** The SDK's ApiError body, with the field a 400 names (from `properties` or the `field: message` prefix). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly properties?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The field the server blamed, e.g. `handler_script`, `[1].version`, `FOO` (an env var). */
  get field(): string | undefined {
    return normaliseField(this.rawField);
  }

  private get rawField(): string | undefined {
    const p = this.properties ?? {};
    if (typeof p.field === 'string') return p.field;
    const errs = p.errors;
    if (Array.isArray(errs) && errs[0] && typeof errs[0].field === 'string') return errs[0].field;
    const m = /^([\w.[\]-]+): /.exec(this.message);
    return m ? m[1] : undefined;
  }

  /** The message without its `field: ` prefix. */
  get detail(): string {
    const f = this.rawField;
    return f && this.message.startsWith(`${f}: `) ? this.message.slice(f.length + 2) : this.message;
  }
}

/** zod paths come as `0.version`, the registry's own checks as `[0].version`: one form for the UI. */
export function normaliseField(f: string | undefined): string | undefined {
  return f?.replace(/^(\d+)(?=\.|$)/, '[$1]');
}

interface Session {
  token: string;
  clientId: string;
  expiresAt: number;
}

type Listener = () => void;

/** A thin client of the chatfn API; the bearer token lives in sessionStorage only. */
export class Api {
  private session: Session | null = null;
  private listeners = new Set<Listener>();

  constructor(private readonly base = '') {
    try {
      const raw = sessionStorage.getItem(TOKEN_KEY);
      if (raw) {
        const s = JSON.parse(raw) as Session;
        if (s.expiresAt > Date.now() + 5_000) this.session = s;
      }
    } catch {
      this.session = null;
    }
  }

  get signedIn(): boolean {
    return this.session !== null;
  }
  get clientId(): string | undefined {
    return this.session?.clientId;
  }

  onChange(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  async signIn(clientId: string, clientSecret: string): Promise<void> {
    const res = await fetch(`${this.base}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${clientId}:${clientSecret}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: 'grant_type=client_credentials',
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok || typeof body.access_token !== 'string') {
      const msg = String(body.error_description ?? body.message ?? body.error ?? `sign-in failed (${res.status})`);
      throw new ApiError(res.status, String(body.error ?? 'AuthenticationError'), msg);
    }
    const ttl = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    this.session = { token: body.access_token, clientId, expiresAt: Date.now() + ttl * 1000 };
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify(this.session));
    this.emit();
  }

  signOut(): void {
    this.session = null;
    sessionStorage.removeItem(TOKEN_KEY);
    this.emit();
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.session) throw new ApiError(401, 'AuthenticationError', 'Not signed in');
    const res = await fetch(`${this.base}/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.session.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { error?: string; message?: string; properties?: Record<string, unknown> };
      if (res.status === 401) this.signOut();
      throw new ApiError(res.status, e.error ?? 'Error', e.message ?? (text || res.statusText), e.properties);
    }
    return json as T;
  }

  private async page<T>(path: string, rel: string): Promise<Page<T>> {
    const r = await this.request<{ _embedded?: Record<string, T[]>; page: Page<T>['page'] }>('GET', path);
    return { items: r._embedded?.[rel] ?? [], page: r.page };
  }

  // ---- functions ----
  functions = () => this.page<ChatFunction>('/runtimes/nodejs/functions?size=100', 'functions');
  fn = (id: number) => this.request<ChatFunction>('GET', `/functions/${id}`);
  versions = (id: number, size = 50) => this.page<FunctionVersion>(`/functions/${id}/versions?size=${size}`, 'versions');
  currentVersion = (id: number) => this.request<FunctionVersion>('GET', `/functions/${id}/current-version`);
  deploy = (id: number, handler_script: string) => this.request<FunctionVersion>('POST', `/functions/${id}/versions`, { handler_script });
  setEnabled = (id: number, enabled: boolean) => this.request<ChatFunction>('POST', `/functions/${id}/${enabled ? 'enable' : 'disable'}`);
  rollback = (id: number, version_number: number) => this.request<FunctionVersion>('POST', `/functions/${id}/rollback`, { version_number });
  settings = (id: number, s: { timeout_ms?: number | string; failure_policy?: string }) => this.request<ChatFunction>('PATCH', `/functions/${id}/settings`, s);
  test = (id: number, event: unknown, script?: string) => this.request<TestRunResult>('POST', `/functions/${id}/test`, { event, script });
  invocations = (id: number, q: { status?: string; version?: string; size?: number; page?: number } = {}) => {
    const p = new URLSearchParams({ size: String(q.size ?? 50), page: String(q.page ?? 0) });
    if (q.status) p.set('status', q.status);
    if (q.version) p.set('version_number', q.version);
    return this.page<Invocation>(`/functions/${id}/invocations?${p}`, 'invocations');
  };
  redrive = (id: number, invocationId: string) =>
    this.request<{ invocation_id: string }>('POST', `/functions/${id}/invocations/${encodeURIComponent(invocationId)}/redrive`);

  // ---- runtime ----
  runtime = () => this.request<Runtime>('GET', '/runtimes/nodejs');
  putDependencies = (deps: { name: string; version: string }[]) => this.request<Runtime>('PUT', '/runtimes/nodejs/dependencies', deps);
  putEnvironment = (env: Record<string, string>) => this.request<Runtime>('PUT', '/runtimes/nodejs/environment-variables', env);
  putInitScript = (script: string) => this.request<Runtime>('PUT', '/runtimes/nodejs/initialization-script', { script });
  builds = (size = 10) => this.page<RuntimeBuild>(`/runtimes/nodejs/builds?size=${size}`, 'builds');
}

export const api = new Api();
