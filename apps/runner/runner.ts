/**
 * chatfn runner: the small program inside each runner container (Docker driver) or child process (process driver).
 * Framework-free and dependency-free (Node built-ins only) so it can be copied into any runtime image as one file.
 *
 * Protocol (one for both drivers, modelled on OpenWhisk's action proxy): JSON over HTTP/1.1 on a loopback port.
 *   start-up   env CHATFN_RUNNER_TOKEN (required), CHATFN_RUNNER_PORT (0 = any free port), CHATFN_RUNNER_HOST,
 *              CHATFN_RUNTIME_DIR (directory whose node_modules `require` resolves from), CHATFN_APPLICATION_ID,
 *              CHATFN_CHAT_BASE_URL (the Platform API base, `.../v1`). Every other variable is the runtime's own.
 *              When listening, prints one line on stdout: {"event":"ready","port":N,"pid":P}.
 *   GET  /health          → {ok, initialized, versions, inFlight}
 *   POST /init            {initScript?, accessToken, accessTokenExpiresAt}  → RunnerReply (runs once; later calls no-op)
 *   POST /run             RunRequest → RunnerReply
 *   POST /runs            {requests: RunRequest[]} → NDJSON stream, one line {"i": index, "reply": RunnerReply} per
 *                         request as soon as it finishes (in any order; lines finishing together go out in one write)
 *   POST /oauth/token     client-credentials token endpoint for the function's own SDK clients (see below)
 * Every call except /oauth/token needs `Authorization: Bearer <CHATFN_RUNNER_TOKEN>`.
 *
 * Channel (process driver): with CHATFN_RUNNER_CHANNEL=<fd> the host also talks over that inherited socket pair,
 * NDJSON both ways — `{"id":N,"op":"run"|"init","body":{...}}` in, `{"id":N,"reply":RunnerReply}` out, replies in any
 * order — which costs a fraction of an HTTP exchange. The channel closing (the host is gone) ends the runner.
 * A run may leave out `script` when this runner already loaded `versionKey` (the host knows what it sent).
 *
 * Credentials: the executor hands the runner a short-lived access token for its application with every call. The
 * runner gives user code a runner-local client id/secret (`CHATKITTY_CLIENT_ID/SECRET`) and points
 * `CHATKITTY_AUTHORIZATION_SERVICE_BASE_URL` at itself, so `new ChatKitty({...})` built from `process.env` works
 * unchanged, and the application's real secret never enters user code.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import Module from 'node:module';
import { Socket } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { format } from 'node:util';
import vm from 'node:vm';
import type { InitRequest, RunnerError, RunnerReply, RunRequest } from './runner.protocol';

const DEPTH_HEADER = 'X-Chatfn-Event-Depth';

interface InvocationStore {
  id: string;
  depth: number;
  logs: string[];
  logBytes: number;
  maxLogBytes: number;
  truncated: boolean;
  /** Fails the invocation from outside its promise chain (unhandled rejection, uncaught exception). */
  fail?: (err: unknown) => void;
}

type Handler = (event: unknown, context: unknown) => unknown;

const DEFAULT_MAX_LOG_BYTES = 64 * 1024;

// ---- state -----------------------------------------------------------------------------------------------------

const controlToken = process.env.CHATFN_RUNNER_TOKEN ?? '';
const runtimeDir = resolve(process.env.CHATFN_RUNTIME_DIR ?? process.cwd());
const applicationId = process.env.CHATFN_APPLICATION_ID ?? '';
const chatBaseUrl = (process.env.CHATFN_CHAT_BASE_URL ?? '').replace(/\/$/, '');
const host = process.env.CHATFN_RUNNER_HOST ?? '127.0.0.1';
const wantedPort = Number(process.env.CHATFN_RUNNER_PORT ?? 0);
/** Top-level packages user code may require (the base runtime is the installation's own node_modules); all if unset. */
const runtimePackages = process.env.CHATFN_RUNTIME_PACKAGES?.split(',').filter(Boolean);
const channelFd = Number(process.env.CHATFN_RUNNER_CHANNEL ?? '');
for (const k of Object.keys(process.env)) if (k.startsWith('CHATFN_')) delete process.env[k];

const clientId = `chatfn-runner-${applicationId}`;
const clientSecret = randomBytes(24).toString('base64url');
let accessToken: { token: string; expiresAt: number } | undefined;

const als = new AsyncLocalStorage<InvocationStore>();

// ---- module resolution confined to the runtime ------------------------------------------------------------------

/**
 * `require` resolves inside `<runtime dir>/node_modules` only: the lookup never walks up past the runtime directory
 * (a runtime dir inside an installation would otherwise reach the platform's own node_modules), global folders and
 * NODE_PATH are ignored, and any path that resolves elsewhere — absolute, relative, `..` — is not found. User code
 * (handlers, init script) may load only the runtime's packages (`CHATFN_RUNTIME_PACKAGES` when the runtime holds more
 * than the app asked for); packages load their own dependencies from the runtime's node_modules.
 */
const runtimeModules = join(runtimeDir, 'node_modules');
const within = (p: string, root: string) => p === root || p.startsWith(root + sep);
const userRequireParent = join(runtimeDir, 'package.json');
const userRoots = runtimePackages ? runtimePackages.map((p) => join(runtimeModules, p)) : [runtimeModules];
const ModuleInternals = Module as unknown as {
  _nodeModulePaths(from: string): string[];
  _resolveFilename(request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]): string;
  globalPaths: string[];
};
const nodeModulePaths = ModuleInternals._nodeModulePaths;
ModuleInternals._nodeModulePaths = (from: string) => nodeModulePaths(from).filter((p) => within(p, runtimeModules));
ModuleInternals.globalPaths.splice(0);
const resolveFilename = ModuleInternals._resolveFilename;
ModuleInternals._resolveFilename = function (request, parent, ...rest) {
  const resolved = resolveFilename.call(this, request, parent, ...rest);
  if (Module.isBuiltin(resolved)) return resolved;
  // User code requires through `userRequire` (its parent is the runtime's package.json); everything else — packages
  // loading their dependencies, the ESM loader — stays inside the runtime's node_modules.
  const fromUser = parent?.filename === userRequireParent;
  if (fromUser ? userRoots.some((r) => within(resolved, r)) : within(resolved, runtimeModules)) return resolved;
  throw Object.assign(new Error(`Cannot find module '${request}' in the runtime`), { code: 'MODULE_NOT_FOUND' });
};

const userRequire = Module.createRequire(userRequireParent);
const versions = new Map<string, { hash: string; script: string; handler: Handler }>();
let initialized: Promise<RunnerReply> | undefined;
let client: Record<string, unknown> | undefined;
let inFlight = 0;

// ---- console capture -------------------------------------------------------------------------------------------

const realStderrWrite = process.stderr.write.bind(process.stderr);
function capture(level: string) {
  return (...args: unknown[]) => {
    const store = als.getStore();
    const line = `${level === 'log' ? '' : `[${level}] `}${format(...args)}\n`;
    if (!store) {
      realStderrWrite(line);
      return;
    }
    appendLog(store, line);
  };
}
function appendLog(store: InvocationStore, line: string): void {
  if (store.truncated) return;
  const bytes = Buffer.byteLength(line);
  if (store.logBytes + bytes > store.maxLogBytes) {
    store.truncated = true;
    store.logs.push(`…[logs truncated at ${store.maxLogBytes} bytes]\n`);
    return;
  }
  store.logs.push(line);
  store.logBytes += bytes;
}
for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  (console as unknown as Record<string, unknown>)[level] = capture(level);
}
console.dir = (obj: unknown) => capture('log')(obj);

// ---- containment ------------------------------------------------------------------------------------------------

const realExit = process.exit.bind(process);
process.exit = ((code?: number) => {
  throw Object.assign(new Error(`process.exit(${code ?? ''}) is not allowed in a chat function`), { name: 'ForbiddenError' });
}) as typeof process.exit;
process.abort = (() => {
  throw Object.assign(new Error('process.abort() is not allowed in a chat function'), { name: 'ForbiddenError' });
}) as typeof process.abort;

process.on('unhandledRejection', (reason) => {
  const store = als.getStore();
  const err = toError(reason);
  if (store?.fail) store.fail(Object.assign(err, { message: `Unhandled promise rejection: ${err.message}` }));
  else realStderrWrite(`[runner] unhandled rejection outside an invocation: ${err.stack ?? err.message}\n`);
});
process.on('uncaughtException', (e) => {
  const store = als.getStore();
  const err = toError(e);
  if (store?.fail) store.fail(Object.assign(err, { message: `Uncaught exception: ${err.message}` }));
  else realStderrWrite(`[runner] uncaught exception outside an invocation: ${err.stack ?? err.message}\n`);
});

// ---- loading code -----------------------------------------------------------------------------------------------

/** Wraps a CommonJS script so that a top-level `handleEvent` (not exported) is captured, like ChatKitty's. */
function wrapScript(script: string): string {
  return (
    '(function (exports, require, module, __filename, __dirname) {' +
    script +
    '\n;return typeof handleEvent === "function" ? handleEvent' +
    ' : (module.exports && typeof module.exports.handleEvent === "function" ? module.exports.handleEvent' +
    ' : (exports && typeof exports.handleEvent === "function" ? exports.handleEvent : undefined));\n})'
  );
}

function evaluate(script: string, filename: string): unknown {
  const fn = new vm.Script(wrapScript(script), { filename }).runInThisContext() as (...a: unknown[]) => unknown;
  const mod = { exports: {} as Record<string, unknown> };
  return fn.call(mod.exports, mod.exports, userRequire, mod, join(runtimeDir, filename), runtimeDir);
}

function loadVersion(key: string, script: string | undefined): Handler {
  const cached = versions.get(key);
  if (cached && (script === undefined || cached.script === script)) return cached.handler;
  if (script === undefined) {
    throw Object.assign(new Error(`version ${key} is not loaded in this runner and came without its script`), { name: 'RunnerProtocolError' });
  }
  const hash = createHash('sha256').update(script).digest('hex');
  if (cached && cached.hash === hash) return cached.handler;
  const handler = evaluate(script, `${key.replace(/[^\w.-]/g, '_')}.js`);
  if (typeof handler !== 'function') {
    throw Object.assign(new Error('The handler script does not define a function named handleEvent'), { name: 'InvalidHandlerError' });
  }
  versions.set(key, { hash, script, handler: handler as Handler });
  return handler as Handler;
}

// ---- the SDK context --------------------------------------------------------------------------------------------

function sdk(): Record<string, unknown> {
  if (client) return client;
  const ck = userRequire('chatkitty') as { ChatKitty?: new (c: Record<string, string>) => Record<string, unknown>; default?: unknown };
  const ChatKitty = ck.ChatKitty ?? (ck.default as typeof ck.ChatKitty);
  if (!ChatKitty) throw new Error('the runtime has no chatkitty SDK');
  // Every request of an invocation carries its depth (the SDK's APIs all use axios' global instance).
  try {
    // From chatkitty's own location: axios is its dependency, not one user code may load.
    const axios = Module.createRequire(userRequire.resolve('chatkitty'))('axios') as { default?: AxiosLike } & AxiosLike;
    const instance = axios.default ?? axios;
    instance.interceptors.request.use((cfg: { headers: Record<string, unknown> & { set?: (k: string, v: string) => void } }) => {
      const store = als.getStore();
      if (store) {
        if (typeof cfg.headers.set === 'function') cfg.headers.set(DEPTH_HEADER, String(store.depth + 1));
        else cfg.headers[DEPTH_HEADER] = String(store.depth + 1);
      }
      return cfg;
    });
  } catch (e) {
    realStderrWrite(`[runner] could not install the depth header interceptor: ${String(e)}\n`);
  }
  client = new ChatKitty({
    clientId,
    clientSecret,
    basePath: process.env.CHATKITTY_CHAT_SERVICE_BASE_URL ?? chatBaseUrl,
    authorizationBasePath: `${process.env.CHATKITTY_AUTHORIZATION_SERVICE_BASE_URL}/oauth/token`,
  });
  return client;
}
interface AxiosLike {
  interceptors: { request: { use(fn: (cfg: never) => unknown): void } };
}

function makeContext(): Record<string, unknown> {
  return {
    get ChatKitty() {
      return sdk();
    },
    getApplicationApi: () => sdk().ApplicationApi,
    getChannelApi: () => sdk().ChannelsApi,
    getMessageApi: () => sdk().MessagesApi,
    getUserApi: () => sdk().UsersApi,
    getUserSessionApi: () => sdk().UserSessionsApi,
    getChatSessionApi: () => sdk().ChatSessionsApi,
    getThreadApi: () => sdk().ThreadsApi,
  };
}

// ---- running ----------------------------------------------------------------------------------------------------

function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  if (e && typeof e === 'object' && 'message' in e) {
    const o = e as { name?: unknown; message?: unknown; stack?: unknown };
    return Object.assign(new Error(String(o.message)), { name: typeof o.name === 'string' ? o.name : 'Error' });
  }
  return new Error(typeof e === 'string' ? e : format(e));
}

function serialiseError(e: unknown): RunnerError {
  const err = toError(e);
  const axiosData = (e as { response?: { status?: number; data?: { message?: string } } })?.response;
  const message =
    axiosData?.status !== undefined
      ? `${err.message}${axiosData.data?.message ? `: ${axiosData.data.message}` : ''}`
      : err.message;
  return { name: err.name || 'Error', message, stack: err.stack };
}

function jsonSafe(value: unknown): unknown {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return format(value);
  }
}

/** Runs `fn` inside a fresh invocation store with a timeout; never rejects. */
async function execute(
  id: string,
  depth: number,
  timeoutMs: number,
  maxLogBytes: number,
  fn: () => unknown,
): Promise<RunnerReply> {
  const started = process.hrtime.bigint();
  const store: InvocationStore = { id, depth, logs: [], logBytes: 0, maxLogBytes, truncated: false };
  inFlight++;
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await new Promise<{ ok: true; value: unknown } | { ok: false; error: unknown; timedOut?: boolean }>((res) => {
      store.fail = (error) => res({ ok: false, error });
      timer = setTimeout(
        () =>
          res({
            ok: false,
            timedOut: true,
            error: Object.assign(new Error(`Function timed out after ${timeoutMs} ms`), { name: 'TimeoutError' }),
          }),
        timeoutMs,
      );
      als.run(store, () => {
        try {
          Promise.resolve(fn()).then(
            (value) => res({ ok: true, value }),
            (error) => res({ ok: false, error }),
          );
        } catch (error) {
          res({ ok: false, error });
        }
      });
    });
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    const logs = store.logs.join('');
    if (outcome.ok) return { status: 'SUCCEEDED', result: jsonSafe(outcome.value), logs, durationMs };
    return { status: 'FAILED', error: serialiseError(outcome.error), timedOut: outcome.timedOut, logs, durationMs };
  } finally {
    if (timer) clearTimeout(timer);
    store.fail = undefined;
    inFlight--;
  }
}

function setToken(token?: string, expiresAt?: number): void {
  if (token) accessToken = { token, expiresAt: expiresAt ?? Date.now() + 300_000 };
}

async function init(body: InitRequest): Promise<RunnerReply> {
  setToken(body.accessToken, body.accessTokenExpiresAt);
  initialized ??= (async () => {
    let script = body.initScript;
    const file = join(runtimeDir, 'init.js');
    if (script === undefined && existsSync(file)) script = readFileSync(file, 'utf8');
    if (!script || !script.trim()) return { status: 'SUCCEEDED' as const, logs: '', durationMs: 0 };
    return execute('init', 0, body.timeoutMs ?? 30_000, DEFAULT_MAX_LOG_BYTES, () => evaluate(script!, 'init.js'));
  })();
  return initialized;
}

async function run(req: RunRequest): Promise<RunnerReply> {
  setToken(req.accessToken, req.accessTokenExpiresAt);
  if (!initialized) await init({});
  const initReply = await initialized!;
  if (initReply.status === 'FAILED') {
    return {
      status: 'FAILED',
      error: { ...initReply.error!, message: `The initialization script failed: ${initReply.error!.message}` },
      logs: initReply.logs,
      durationMs: 0,
    };
  }
  return execute(req.invocationId, req.depth ?? 0, req.timeoutMs, req.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES, () => {
    const handler = loadVersion(req.versionKey, req.script);
    return handler(req.event, makeContext());
  });
}

// ---- HTTP -------------------------------------------------------------------------------------------------------

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function tokenEndpoint(req: IncomingMessage, res: ServerResponse): void {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  const [id, secret] = m ? Buffer.from(m[1], 'base64').toString('utf8').split(':') : [];
  if (!id || !secret || !safeEqual(id, clientId) || !safeEqual(secret, clientSecret)) {
    return send(res, 401, { error: 'invalid_client', message: 'Bad client credentials' });
  }
  if (!accessToken) return send(res, 503, { error: 'temporarily_unavailable', message: 'runner has no token yet' });
  // Short max-age so SDK token caches pick up the executor's refreshed tokens.
  const expiresIn = Math.max(1, Math.min(60, Math.floor((accessToken.expiresAt - Date.now()) / 1000)));
  send(res, 200, { access_token: accessToken.token, token_type: 'bearer', expires_in: expiresIn, scope: 'create:* read:* update:* delete:*' });
}

/** Runs a batch concurrently and streams each reply as it is ready (one HTTP exchange for many invocations). */
function runMany(req: IncomingMessage, res: ServerResponse): void {
  readBody(req)
    .then((text) => (JSON.parse(text) as { requests: RunRequest[] }).requests)
    .then(
      (requests) => {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        let pending = requests.length;
        let out: string[] = [];
        let flushing = false;
        const flush = () => {
          flushing = false;
          const text = out.join('');
          out = [];
          if (pending === 0) res.end(text);
          else res.write(text);
        };
        if (pending === 0) return res.end();
        requests.forEach((r, i) => {
          void run(r)
            .catch((e: unknown) => ({ status: 'FAILED' as const, error: serialiseError(e), logs: '', durationMs: 0 }))
            .then((reply) => {
              out.push(`${JSON.stringify({ i, reply })}\n`);
              pending--;
              if (pending === 0 && !flushing) return flush(); // the last (or only) reply: no reason to wait
              if (!flushing) {
                flushing = true;
                setImmediate(flush);
              }
            });
        });
      },
      (e) => send(res, 400, { error: 'bad request', message: String(e) }),
    );
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/oauth/token') {
    req.resume();
    req.on('end', () => tokenEndpoint(req, res));
    return;
  }
  const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!controlToken || !auth || !safeEqual(auth[1], controlToken)) return send(res, 401, { error: 'unauthorized' });
  if (req.method === 'GET' && path === '/health') {
    return send(res, 200, { ok: true, initialized: !!initialized, versions: versions.size, inFlight });
  }
  if (req.method === 'POST' && path === '/runs') return runMany(req, res);
  if (req.method !== 'POST' || (path !== '/run' && path !== '/init')) return send(res, 404, { error: 'not found' });
  readBody(req)
    .then((text) => {
      const body = JSON.parse(text) as RunRequest;
      return path === '/run' ? run(body) : init(body);
    })
    .then(
      (reply) => send(res, 200, reply),
      (e) => send(res, 400, { error: 'bad request', message: String(e) }),
    );
});
server.keepAliveTimeout = 60_000;

server.listen(wantedPort, host, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : wantedPort;
  process.env.CHATKITTY_APPLICATION_ID = applicationId;
  process.env.CHATKITTY_CLIENT_ID = clientId;
  process.env.CHATKITTY_CLIENT_SECRET = clientSecret;
  process.env.CHATKITTY_CHAT_SERVICE_BASE_URL = chatBaseUrl;
  process.env.CHATKITTY_AUTHORIZATION_SERVICE_BASE_URL = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ event: 'ready', port, pid: process.pid })}\n`);
});

// ---- channel (process driver) -------------------------------------------------------------------------------------

if (Number.isInteger(channelFd) && channelFd > 2) {
  const channel = new Socket({ fd: channelFd, readable: true, writable: true });
  channel.setEncoding('utf8');
  let corked = false;
  const reply = (id: unknown, body: RunnerReply) => {
    // Replies finishing in one turn of the event loop leave in one write.
    if (!corked) {
      corked = true;
      channel.cork();
      process.nextTick(() => {
        corked = false;
        channel.uncork();
      });
    }
    channel.write(`${JSON.stringify({ id, reply: body })}\n`);
  };
  const handle = (line: string) => {
    let msg: { id?: unknown; op?: string; body?: RunRequest & InitRequest };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch (e) {
      realStderrWrite(`[runner] invalid channel message: ${String(e)}\n`);
      return;
    }
    const body = msg.body ?? ({} as RunRequest & InitRequest);
    void (msg.op === 'init' ? init(body) : run(body))
      .catch((e: unknown) => ({ status: 'FAILED' as const, error: serialiseError(e), logs: '', durationMs: 0 }))
      .then((r) => reply(msg.id, r));
  };
  let buf = '';
  channel.on('data', (chunk: string) => {
    buf += chunk;
    let start = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', start)) {
      handle(buf.slice(start, nl));
      start = nl + 1;
    }
    buf = start === 0 ? buf : buf.slice(start);
  });
  // The host is gone (or closed the channel): nothing will ask this runner anything again.
  channel.on('close', () => realExit(0));
  channel.on('error', () => realExit(0));
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    server.close();
    realExit(0);
  });
}
