import { WebSocket } from 'ws';
import { FunctionDirectory } from '@chatfn/function-directory';
import { TestServer, waitFor } from '@chatfn/testing';
import { CHATFN_ALL_IN_ONE } from '../../apps/chatfn/chatfn.service';
import { ExecutorModule } from '../../apps/executor/src/executor.module';
import { GatewayModule } from '../../apps/chat/src/gateway/gateway.module';
import { GATEWAY_FUNCTIONS } from '../../apps/chat/src/gateway/sessions/session-auth.service';
import { RouterModule } from '../../apps/router/src/router.module';
import { AppClient, Json, startExecutionServer } from './execution.harness';

// Node 20 has no global WebSocket; @chatkitty/core looks for one when a session starts.
(globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
 
const core = require('@chatkitty/core') as typeof import('@chatkitty/core');

jest.setTimeout(120_000);

/**
 * The failure policy of blocking functions when no executor runs: every service but the executor, on the embedded
 * bus. A send_message function fails open by default (the message goes through), a start_session function fails
 * closed by default (the session is denied), each policy can be switched, and a draft test run answers 503 at once.
 */
describe('blocking functions with no executor running', () => {
  let server: TestServer;
  let a: AppClient;

  beforeAll(async () => {
    const modules = (CHATFN_ALL_IN_ONE.modules ?? []).filter((m) => m !== ExecutorModule);
    server = await startExecutionServer({ definition: { ...CHATFN_ALL_IN_ONE, modules } });
    const gatewayDirectory = { get: () => server.app.select(GatewayModule).get<FunctionDirectory>(GATEWAY_FUNCTIONS, { strict: true }) };
    a = await AppClient.create(server, { directoryModules: [RouterModule] });
    // The gateway's directory must see deploys too (start_session is decided there).
    const deploy = a.deploy.bind(a);
    a.deploy = async (type, script) => {
      const fn = await deploy(type, script);
      await waitFor(() => gatewayDirectory.get().getById(fn.id)?.currentVersionNumber === fn.version, { what: 'the gateway directory' });
      return fn;
    };
  });
  afterAll(async () => {
    await server?.close();
  });

  const settings = async (fnId: number, policy: 'allow' | 'deny') => {
    expect((await a.api('PATCH', `/v1/functions/${fnId}/settings`, { failure_policy: policy })).status).toBe(200);
  };

  it('lets a message through when its send_message function cannot be asked (allow by default), and rejects it under deny', async () => {
    const fn = await a.deploy('user.attempted.send_message', `async function handleEvent() { throw new Error('never reached'); }`);
    const cid = await a.newChannel();
    const started = Date.now();
    const sent = (await a.send(cid, 'hello')).data as unknown as Json;
    expect(sent.body).toBe('hello');
    expect(Date.now() - started).toBeLessThan(5_000); // no executor is known at once: no wait for a deadline
    expect(await a.messages(cid)).toContain('hello');

    await settings(fn.id, 'deny');
    const rejection = await waitFor(
      async () => {
        const r = await a.send(cid, 'closed').then(
          () => undefined,
          (e: { response?: { status: number; data: Json } }) => e.response,
        );
        return r && r.status >= 400 ? r : undefined;
      },
      { what: 'the message to be rejected under deny' },
    );
    expect(rejection.status).toBeGreaterThanOrEqual(400);
    expect(rejection.status).toBeLessThan(500);
    expect(String(rejection.data.message)).toMatch(/could not be checked/);
    expect(await a.messages(cid)).not.toContain('closed');
  });

  it('denies a session when its start_session function cannot be asked (deny by default), and allows it under allow', async () => {
    const fn = await a.deploy('user.attempted.start_session', `async function handleEvent() { return true; }`);
    const environment = { host: new URL(server.url).host, secure: false };
    const client = core.getSdkClient(a.app.api_key, { $environment: environment as never });
    const denied = (await client.startSession({ username: 'alice', authParams: { password: 'x' } })) as unknown as { failed: boolean; error: Json };
    expect(denied.failed).toBe(true);
    expect(denied.error.error).toBe('AccessDeniedError');
    expect(String(denied.error.message)).toMatch(/could not be authorised/);

    await settings(fn.id, 'allow');
    await waitFor(
      () => server.app.select(GatewayModule).get<FunctionDirectory>(GATEWAY_FUNCTIONS, { strict: true }).getById(fn.id)?.failurePolicy === 'allow',
      { what: 'the policy change in the gateway' },
    );
    const allowed = (await client.startSession({ username: 'alice', authParams: { password: 'x' } })) as unknown as { succeeded: boolean };
    try {
      expect(allowed.succeeded).toBe(true);
    } finally {
      await client.endSession().catch(() => undefined);
    }
  });

  it('answers a draft test run with 503 ExecutorUnavailableError at once', async () => {
    const fn = await a.deploy('user.sent.message', `async function handleEvent() { return 1; }`);
    const started = Date.now();
    const r = await a.api('POST', `/v1/functions/${fn.id}/test`, { event: { message: { body: 'x' } } });
    expect(r.status).toBe(503);
    expect(r.body.error).toBe('ExecutorUnavailableError');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
