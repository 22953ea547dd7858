import { ChatKitty } from 'chatkitty';
import { FunctionDirectory, RuntimeDirectory } from '@chatfn/function-directory';
import { startTestServer, TestApplication, TestServer, TestServerOptions, waitFor } from '@chatfn/testing';
import { ExecutorModule } from '../../apps/executor/src/executor.module';
import { RouterModule } from '../../apps/router/src/router.module';

export type Json = Record<string, any>;  

/** One application on a test server, driven through the real chatkitty SDK (and plain fetch for chatfn extensions). */
export class AppClient {
  readonly ck: ChatKitty;
  private token?: string;

  constructor(
    readonly server: TestServer,
    readonly app: TestApplication,
    /** Modules whose FunctionDirectory must see a deploy before it counts (default: router and executor). */
    private readonly directoryModules: unknown[] = [RouterModule, ExecutorModule],
  ) {
    this.ck = new ChatKitty(server.sdkConfig(app));
  }

  static async create(server: TestServer, opts: { directoryModules?: unknown[] } = {}): Promise<AppClient> {
    const c = new AppClient(server, await server.createApplication(), opts.directoryModules);
    await c.ck.UsersApi.createUser({ name: 'alice', display_name: 'Alice', is_guest: false } as never);
    return c;
  }

  async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    if (!this.token) {
      const basic = Buffer.from(`${this.app.client_id}:${this.app.client_secret}`).toString('base64');
      const t = await fetch(`${this.server.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      this.token = ((await t.json()) as { access_token: string }).access_token;
    }
    const res = await fetch(`${this.server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  }

  private directories(): FunctionDirectory[] {
    return this.directoryModules.map((m) => this.server.app.select(m as never).get(FunctionDirectory, { strict: true }));
  }

  /** Creates (or finds) the app's function for a trigger and deploys a version; waits until routers/executors see it. */
  async deploy(type: string, script: string): Promise<{ id: number; version: number }> {
    const list = (await this.ck.RuntimeApi.listNodejsRuntimeFunctions(0, 100)).data as unknown as { _embedded?: { functions?: { id: number; type: string }[] } };
    let fn = list._embedded?.functions?.find((f) => f.type === type);
    if (!fn) fn = (await this.ck.RuntimeApi.createNodejsRuntimeFunction({ type, name: type, initialize_asynchronously: false } as never)).data as never;
    const v = (await this.ck.FunctionsApi.createFunctionVersion(fn!.id, { handler_script: script } as never)).data as unknown as { version_number: number };
    await waitFor(() => this.directories().every((d) => d.getById(fn!.id)?.currentVersionNumber === v.version_number && d.getById(fn!.id)?.enabled), {
      timeoutMs: 15_000,
      what: `function ${fn!.id} v${v.version_number} in the directories`,
    });
    return { id: fn!.id, version: v.version_number };
  }

  async setEnv(vars: Record<string, string>): Promise<void> {
    const runtimes = this.server.app.select(ExecutorModule).get(RuntimeDirectory, { strict: true });
    const before = runtimes.get(this.app.id)?.environmentRevision ?? 0;
    await this.ck.RuntimeApi.updateNodejsRuntimeEnvironmentVariables(vars as never);
    await waitFor(() => (runtimes.get(this.app.id)?.environmentRevision ?? 0) > before, { timeoutMs: 15_000, what: 'the runtime change' });
  }

  async invocations(fnId: number): Promise<Json[]> {
    const page = (await this.ck.FunctionsApi.listFunctionInvocations(fnId, 0, 100)).data as unknown as { _embedded?: Record<string, Json[]> };
    return Object.values(page._embedded ?? {})[0] ?? [];
  }

  /** Waits until `pred` holds for some invocation of the function; returns it. */
  invocation(fnId: number, pred: (i: Json) => boolean, what: string, timeoutMs = 30_000): Promise<Json> {
    return waitFor(async () => (await this.invocations(fnId)).find(pred), { timeoutMs, what });
  }

  async newChannel(): Promise<number> {
    const c = (await this.ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: `c-${Math.random().toString(36).slice(2)}` } as never)).data as { id: number };
    await this.ck.ChannelsApi.addChannelMember(c.id, { username: 'alice' } as never).catch(() => undefined);
    return c.id;
  }

  send(channelId: number, body: string) {
    return this.ck.ChannelsApi.sendChannelMessage(channelId, { type: 'TEXT', body, user: { username: 'alice' } } as never);
  }

  async messages(channelId: number): Promise<string[]> {
    const page = (await this.ck.ChannelsApi.listChannelMessages(channelId, 100)).data as unknown as { _embedded?: { messages?: { body?: string }[] } };
    return (page._embedded?.messages ?? []).map((m) => m.body ?? '').reverse();
  }
}

export async function startExecutionServer(opts: TestServerOptions = {}): Promise<TestServer> {
  return startTestServer({
    ...opts,
    env: { CHATFN_RETRY_BACKOFF_MS: '20', CHATFN_MAX_ATTEMPTS: '2', CHATFN_RUNNER_MEMORY_MB: '96', LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'error', ...opts.env },
  });
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
