import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ChatKitty } from 'chatkitty';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { FunctionDirectory } from '@chatfn/function-directory';
import { startTestServer, TestApplication, TestServer, waitFor } from '@chatfn/testing';
import { ExecutorModule } from '../../apps/executor/src/executor.module';
import { RouterModule } from '../../apps/router/src/router.module';

/**
 * The dashboard in a real browser (Debian Chromium driven by playwright-core) against the all-in-one server:
 * sign in, add a runtime dependency and watch the build, write and test a function that uses it, deploy it, send a
 * message through the chatkitty SDK, find the invocation with its logs, roll back. Screenshots of every page go to
 * test-output/dashboard/.
 */
jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '../..');
const SHOTS = join(ROOT, 'test-output', 'dashboard');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const V1 = `const _ = require('lodash');

async function handleEvent(event: ChatFunctionEvent, context: ChatFunctionContext) {
  const words = _.words(event.message.body ?? '');
  console.log('words:', words.join('|'));
  return { version: 1, count: words.length, kebab: _.kebabCase(event.message.body) };
}
`;
const V2 = V1.replace('version: 1', 'version: 2').replace("'words:'", "'v2 words:'");

describe('dashboard (browser, embedded server)', () => {
  let server: TestServer;
  let app: TestApplication;
  let ck: ChatKitty;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const consoleErrors: string[] = [];

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const byTest = (id: string) => page.getByTestId(id);
  /** Replaces the text of the Monaco model behind an editor (as a paste would; typing would auto-indent and auto-close). */
  const setEditor = async (testId: string, text: string) => {
    await byTest(testId).locator('.monaco-editor').waitFor();
    await page.evaluate(
      ([id, t]) => {
        const m = (window as unknown as { monaco: any }).monaco;
        const host = document.querySelector(`[data-testid="${id}"]`);
        const ed = m.editor.getEditors().find((e: any) => host?.contains(e.getContainerDomNode()));
        ed.getModel().pushEditOperations([], [{ range: ed.getModel().getFullModelRange(), text: t }], () => null);
      },
      [testId, text] as const,
    );
  };

  beforeAll(async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    if (!existsSync(join(ROOT, 'dist/dashboard/index.html'))) {
      execFileSync('npm', ['run', '--silent', 'build:dashboard'], { cwd: ROOT, stdio: 'inherit' });
    }
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer({ env: { LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn' } });
    app = await server.createApplication('dashboard-e2e');
    ck = new ChatKitty(server.sdkConfig(app));
    profile = mkdtempSync(join(tmpdir(), 'chatfn-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  });

  afterEach(async () => {
    if (process.env.DASHBOARD_DEBUG_SHOTS) await page?.screenshot({ path: join(SHOTS, `debug-${Date.now()}.png`) }).catch(() => undefined);
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
    await server?.close();
  });

  it('serves the app at / and client routes, never shadowing the API', async () => {
    const index = await fetch(`${server.url}/functions/1`, { headers: { accept: 'text/html' } });
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<div id="root">');
    const api = await fetch(`${server.url}/v1/runtimes/nodejs`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(401);
    expect((await api.json()).error).toBe('AuthenticationError');
    expect((await fetch(`${server.url}/health/live`, { headers: { accept: 'text/html' } })).headers.get('content-type')).toContain('json');
    expect((await fetch(`${server.url}/assets/missing.js`)).status).toBe(404);
  });

  it('signs in with the client id and secret (wrong secret: a clear error)', async () => {
    await page.goto(server.url);
    await byTest('client-id').fill(app.client_id);
    await byTest('client-secret').fill('wrong');
    await byTest('signin-submit').click();
    await expectText(byTest('signin-error'), /wrong secret/);
    await shot('01-sign-in');
    await byTest('client-secret').fill(app.client_secret);
    await byTest('signin-submit').click();
    await byTest('nav-functions').waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toContain('chatfn.session');
    expect(await page.evaluate(() => Object.keys(localStorage))).toHaveLength(0);
  });

  it('adds a runtime dependency and shows the build log until it succeeds; a bad one is named beside its field', async () => {
    await byTest('nav-runtime').click();
    await byTest('dependencies-card').waitFor();
    await expectText(byTest('dependency-row-chatkitty'), /default/);
    await byTest('add-dependency').click();
    await byTest('dependency-row-0').getByTestId('dep-name').fill('lodash');
    await byTest('dependency-row-0').getByTestId('dep-version').fill('not a version!');
    await byTest('save-dependencies').click();
    await expectText(byTest('dependency-row-0').getByTestId('field-error'), /invalid version/);
    await byTest('dependency-row-0').getByTestId('dep-version').fill('4.17.21');
    await byTest('save-dependencies').click();
    await waitFor(async () => /lodash/.test(await byTest('build-log').innerText()) || (await byTest('build-status').innerText()) === 'SUCCEEDED', {
      timeoutMs: 60_000,
      what: 'the build log',
    });
    await waitFor(async () => (await byTest('build-status').innerText()) === 'SUCCEEDED', { timeoutMs: 180_000, intervalMs: 500, what: 'the build' });
    await shot('02-runtime');
  });

  it('lists every trigger type with its state', async () => {
    await byTest('nav-functions').click();
    await byTest('functions-table').waitFor();
    expect(await page.getByTestId(/^function-row-/).count()).toBe(9);
    await expectText(byTest('function-row-user.attempted.send_message'), /Blocking/);
    await shot('03-functions');
  });

  it('types event and context in the editor, tests the draft with the sample event, deploys with Ctrl+S', async () => {
    await byTest('open-user.sent.message').click();
    await byTest('handler-editor').locator('.monaco-editor').waitFor();
    // IntelliSense: a typo on the typed event is flagged, the correct script is clean.
    await setEditor('handler-editor', V1.replace('event.message.body ??', 'event.mesage.body ??'));
    await byTest('handler-editor').locator('.squiggly-error').first().waitFor({ timeout: 60_000 });
    await setEditor('handler-editor', V1);
    await waitFor(async () => (await byTest('handler-editor').locator('.squiggly-error').count()) === 0, { timeoutMs: 30_000, what: 'no type errors' });

    await byTest('run-test').click();
    await expectText(byTest('test-return'), /"kebab": "hello-world"/, 60_000);
    await expectText(byTest('test-logs'), /words: Hello\|world/);
    await expectText(byTest('test-outcome'), /Succeeded/);
    await expectText(byTest('test-duration'), /\d+ ms|s$/);
    await shot('04-function-test');

    await byTest('handler-editor').locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('End');
    await page.keyboard.press('ControlOrMeta+S');
    await expectText(byTest('notice'), /Deployed version 1/);
    const fnId = Number(/\/functions\/(\d+)/.exec(page.url())![1]);
    const v1 = (await ck.FunctionsApi.retrieveFunctionCurrentVersion(fnId)).data as unknown as { handler_script: string };
    expect(v1.handler_script).toBe(V1);
    if ((await byTest('fn-state').innerText()) !== 'Enabled') await byTest('enable-toggle').check({ force: true });
    await expectText(byTest('fn-state'), /Enabled/);

    await setEditor('handler-editor', V2);
    await byTest('save-deploy').click();
    await expectText(byTest('notice'), /Deployed version 2/);
    await expectText(byTest('current-version'), /v2/);
  });

  it('shows the invocation of a message sent through the SDK, with its logs', async () => {
    const fnId = Number(/\/functions\/(\d+)/.exec(page.url())![1]);
    const dirs = [RouterModule, ExecutorModule].map((m) => server.app.select(m).get(FunctionDirectory));
    await waitFor(() => dirs.every((d) => d.getById(fnId)?.currentVersionNumber === 2 && d.getById(fnId)?.enabled), { what: 'v2 in the directories' });
    await ck.UsersApi.createUser({ name: 'alice', display_name: 'Alice', is_guest: false } as never);
    const channel = (await ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: 'general' } as never)).data as { id: number };
    await ck.ChannelsApi.addChannelMember(channel.id, { username: 'alice' } as never).catch(() => undefined);
    await ck.ChannelsApi.sendChannelMessage(channel.id, { type: 'TEXT', body: 'Ship it today', user: { username: 'alice' } } as never);

    await byTest('nav-invocations').click();
    const row = byTest('invocation-row').first();
    await row.waitFor({ timeout: 60_000 });
    await waitFor(async () => /SUCCEEDED|FAILED/.test(await row.innerText()), { timeoutMs: 60_000, what: 'a finished invocation' });
    await row.click();
    await expectText(byTest('detail-logs'), /v2 words: Ship\|it\|today/);
    await expectText(byTest('detail-result'), /"kebab": "ship-it-today"/);
    await expectText(byTest('detail-args'), /"body": "Ship it today"/);
    await shot('05-invocations');
  });

  it('diffs a version against the current one and rolls back in one click', async () => {
    await byTest('nav-functions').click();
    await byTest('open-user.sent.message').click();
    await byTest('tab-versions').click();
    await byTest('version-1').click();
    await byTest('diff-editor').locator('.monaco-diff-editor').waitFor();
    await shot('06-versions-diff');
    await byTest('rollback-1').click();
    await expectText(byTest('notice'), /version 3 is a copy of version 1/);
    await expectText(byTest('current-version'), /v3/);
    const fnId = Number(/\/functions\/(\d+)/.exec(page.url())![1]);
    const current = (await ck.FunctionsApi.retrieveFunctionCurrentVersion(fnId)).data as unknown as { handler_script: string };
    expect(current.handler_script).toBe(V1);
  });

  it('names a bad setting beside its field, shows a thrown error with its stack, masks environment values', async () => {
    await byTest('tab-settings').click();
    await byTest('timeout-input').fill('5');
    await byTest('save-settings').click();
    await expectText(byTest('timeout-error'), /between/);
    await byTest('timeout-input').fill('3000');
    await byTest('save-settings').click();
    await waitFor(async () => (await byTest('timeout-error').count()) === 0, { what: 'the error to clear' });

    await byTest('tab-test').click();
    await setEditor('handler-editor', `async function handleEvent(event: ChatFunctionEvent) {\n  throw new Error('nope: ' + event.message.body);\n}\n`);
    await byTest('run-test').click();
    await expectText(byTest('test-error-stack'), /Error: nope: Hello, world!/);
    await expectText(byTest('test-outcome'), /Failed/);

    await byTest('nav-runtime').click();
    await byTest('add-env').click();
    await byTest('env-name').fill('API_TOKEN');
    await byTest('env-value').fill('s3cret');
    await byTest('save-environment').click();
    await page.getByText('Saved', { exact: true }).waitFor();
    await page.reload();
    await byTest('env-value').waitFor();
    expect(await byTest('env-value').getAttribute('type')).toBe('password');
    expect(await byTest('env-value').inputValue()).toBe('s3cret');
  });

  it('shows per-function charts on the overview, and works narrow', async () => {
    await byTest('nav-overview').click();
    await byTest('overview-user.sent.message').waitFor();
    await expectText(byTest('stat-total'), /[1-9]/);
    await shot('07-overview');
    await page.setViewportSize({ width: 390, height: 844 });
    await byTest('overview-user.sent.message').waitFor();
    await shot('08-overview-narrow');
    await page.goto(`${server.url}/functions`);
    await byTest('functions-table').waitFor();
    await shot('09-functions-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(consoleErrors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
  });
});

async function expectText(locator: import('playwright-core').Locator, re: RegExp, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => re.test(await locator.innerText({ timeout: timeoutMs })), { timeoutMs, intervalMs: 100, what: `text ${re}` });
}
