import { TestServer, waitFor } from '@chatfn/testing';
import { ExecutorModule } from '../../apps/executor/src/executor.module';
import { RunnerPool } from '../../apps/executor/src/runners/runner-pool';
import { AppClient, startExecutionServer } from './execution.harness';

jest.setTimeout(240_000);

/**
 * The Docker driver through the whole stack (needs a Docker daemon and the `chatfn/node-base:20` base image:
 * `bash scripts/infra/docker-up.sh`): a function deployed with the chatkitty SDK runs in a runner container, sees
 * its runtime's environment, calls back into the API through `context`, and is recorded; a blocking function answers
 * from a container too.
 */
describe('execution on the Docker driver (embedded bus)', () => {
  let server: TestServer;
  let a: AppClient;

  beforeAll(async () => {
    server = await startExecutionServer({ driver: 'docker' });
    a = await AppClient.create(server);
    await a.setEnv({ GREETING: 'hej' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs a user.sent.message function in a container that replies through the SDK', async () => {
    const fn = await a.deploy(
      'user.sent.message',
      `async function handleEvent(event, context) {
         const inContainer = require('fs').existsSync('/.dockerenv');
         await context.getChannelApi().sendChannelMessage(event.channel.id, { type: 'TEXT', body: 'echo ' + event.message.body + ' ' + process.env.GREETING });
         return { inContainer, uid: process.getuid() };
       }`,
    );
    const cid = await a.newChannel();
    await a.send(cid, 'hello');
    await waitFor(async () => (await a.messages(cid)).includes('echo hello hej'), { timeoutMs: 90_000, what: 'the reply from the container' });
    const inv = await a.invocation(fn.id, (i) => i.args?.message?.body === 'hello' && i.status === 'SUCCEEDED', 'the recorded invocation');
    expect(inv.result.payload.inContainer).toBe(true);
    expect(inv.result.payload.uid).not.toBe(0);
    const pool = server.app.select(ExecutorModule).get(RunnerPool, { strict: true });
    expect(pool.warm().find((w) => w.applicationId === a.app.id)?.id).toMatch(/^ctr-/);
  });

  it('answers a blocking send_message verdict from a container', async () => {
    await a.deploy(
      'user.attempted.send_message',
      `async function handleEvent(event) { return { body: event.message.body.toUpperCase() }; }`,
    );
    const cid = await a.newChannel();
    const sent = (await a.send(cid, 'quiet please')).data as unknown as { body: string };
    expect(sent.body).toBe('QUIET PLEASE');
  });
});
