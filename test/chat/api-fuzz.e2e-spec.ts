/**
 * Bad input never gets a 500: every operation the running all-in-one server lists in `/v1/openapi.json` is sent
 * malformed path ids, query values, bodies (broken JSON, wrong content types, wrong-typed and oversized fields,
 * text PostgreSQL cannot store) and seeded random nestings. Each answer must be a 4xx ApiError (or the 501 of an
 * operation not implemented), in time. Found on its first run: NUL characters, unpaired surrogates and `page=1e99`
 * reaching PostgreSQL as 500s.
 *
 * FUZZ_SEED picks another sequence of random bodies (default 1); a failure prints the requests that failed.
 */
import { startTestServer, TestApplication, TestServer } from '@chatfn/testing';

const SEED = Number(process.env.FUZZ_SEED ?? 1);
/** An answer slower than this counts as a hang. */
const SLOW_MS = 5000;

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed with the same FUZZ_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IDS = ['0', '-1', '1.5', 'abc', '99999999999999999999', '9007199254740993', '%00', '%FF', '1e3', 'null', 'x'.repeat(3000), '%2F..%2F..', '0x10'];
const QUERIES = [
  'page=-1', 'size=0', 'size=100000', 'page=abc', 'sort=zzz', 'sort=id,sideways', 'start=abc', 'next=-5', 'prev=x', 'unread=maybe',
  'state=BOGUS', 'type=BOGUS', 'name=%00', 'members=abc', 'relation=x', 'page=1e99', 'size=1.5', 'start=99999999999999999999',
  'status=BOGUS', 'versionNumber=abc', 'properties=%7Bbad', 'startTime=yesterday', 'username=%ED%A0%80',
];
const SCALARS: unknown[] = [null, true, 1, -1, 1.5, 1e20, '', 'x'.repeat(100_000), [], {}, [1], { a: 1 }, 'a\u0000b', '\ud800', 'NaN', 2 ** 63];
const FIELDS = [
  'name', 'display_name', 'type', 'members', 'body', 'user', 'properties', 'is_guest', 'creator', 'file', 'groupTag', 'url',
  'keys', 'username', 'id', 'handlerScript', 'script', 'timeoutMs', 'failurePolicy', 'features', 'secret', 'event',
];
const RAW_BODIES = ['{', '', 'null', '[]', '"s"', '1', '{"a":', '{"name":"\\ud800"}', '{"__proto__": {"polluted": 1}}', '{"constructor": {"prototype": {"p": 1}}}'];
const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=zz', 'application/xml'];

interface Failure {
  method: string;
  path: string;
  body?: string;
  status: number;
  ms: number;
  answer: string;
}

describe('Platform API under malformed input (seeded fuzzing)', () => {
  let server: TestServer;
  let app: TestApplication;
  let auth: Record<string, string>;
  const failures: Failure[] = [];
  let sent = 0;

  beforeAll(async () => {
    server = await startTestServer();
    app = await server.createApplication('fuzz');
    auth = { authorization: `Bearer ${await server.accessToken(app)}` };
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  /** Sends one request; anything but a 4xx ApiError or a 501, or an answer slower than SLOW_MS, is a failure. */
  async function probe(method: string, path: string, body?: string, contentType?: string): Promise<void> {
    sent++;
    const started = Date.now();
    let status = -1;
    let answer = '';
    try {
      const r = await fetch(`${server.url}${path}`, {
        method,
        headers: { ...auth, ...(contentType ? { 'content-type': contentType } : {}) },
        body,
        signal: AbortSignal.timeout(SLOW_MS * 2),
      });
      status = r.status;
      answer = await r.text();
    } catch (e) {
      answer = String(e);
    }
    const ms = Date.now() - started;
    const apiError = (() => {
      if (status < 400 || method === 'HEAD') return true;
      try {
        const b = JSON.parse(answer) as Record<string, unknown>;
        return typeof b.error === 'string' && typeof b.message === 'string' && typeof b.timestamp === 'string';
      } catch {
        return false;
      }
    })();
    if (status < 0 || (status >= 500 && status !== 501) || ms > SLOW_MS || !apiError) {
      failures.push({ method, path: path.slice(0, 200), body: body?.slice(0, 200), status, ms, answer: answer.slice(0, 300) });
    }
  }

  it('answers every malformed request with a 4xx ApiError (or 501), in time', async () => {
    const rnd = prng(SEED);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
    const randomValue = (depth = 0): unknown => {
      const r = rnd();
      if (depth < 3 && r < 0.15) return Object.fromEntries(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => [pick(FIELDS), randomValue(depth + 1)]));
      if (depth < 3 && r < 0.25) return Array.from({ length: Math.floor(rnd() * 3) }, () => randomValue(depth + 1));
      return pick(SCALARS);
    };

    // Real ids for the parameters not under test, so that the request reaches what comes after the lookup.
    const json = async (method: string, path: string, body: unknown) => {
      const r = await fetch(`${server.url}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as { id: number };
    };
    const alice = await json('POST', '/v1/users', { name: 'alice', display_name: 'Alice', is_guest: false });
    await json('POST', '/v1/users', { name: 'bob', display_name: 'Bob', is_guest: false });
    const channel = await json('POST', '/v1/channels', { type: 'PUBLIC', name: 'general', members: [{ username: 'alice' }, { username: 'bob' }] });
    const message = await json('POST', `/v1/channels/${channel.id}/messages`, { type: 'TEXT', body: 'hi <@bob>', user: { username: 'alice' } });
    const fn = await json('POST', '/v1/runtimes/nodejs/functions', { type: 'user.sent.message', name: 'fuzzed' });
    const real: Record<string, string> = { id: String(channel.id), userId: String(alice.id), invocationId: 'unknown', name: 'secret', app: String(app.id), key: 'k' };
    const realFor = (path: string, param: string) =>
      param === 'id' && path.includes('/functions/') ? String(fn.id) : param === 'id' && (path.includes('/messages/') || path.includes('/threads/')) ? String(message.id) : real[param];

    const doc = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/') && path !== '/v1/openapi.json')
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })));
    expect(operations.length).toBeGreaterThan(50);

    for (const { method, path } of operations) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const fill = (under?: string, value?: string) => path.replace(/\{(\w+)\}/g, (_, p: string) => (p === under ? value! : realFor(path, p)));
      const base = fill();
      const hasBody = ['POST', 'PUT', 'PATCH'].includes(method);
      const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      for (const p of params) for (const v of IDS) await probe(method, fill(p, v), hasBody ? '{}' : undefined, hasBody ? type : undefined);
      for (const q of QUERIES) await probe(method, `${base}?${q}`);
      if (!hasBody) continue;
      for (const raw of RAW_BODIES) await probe(method, base, raw, type);
      for (const ct of CONTENT_TYPES) await probe(method, base, 'name=x&type=y', ct);
      await probe(method, base, '--zz\r\nContent-Disposition: form-data; name="json"\r\n\r\n{bad\r\n--zz--\r\n', 'multipart/form-data; boundary=zz');
      for (const f of FIELDS) for (const v of SCALARS) await probe(method, base, JSON.stringify({ [f]: v }), type);
      for (let i = 0; i < 25; i++) await probe(method, base, JSON.stringify(randomValue()), type);
    }
    if (failures.length > 0) console.error(`seed ${SEED}: ${failures.length} of ${sent} requests failed\n${JSON.stringify(failures.slice(0, 30), null, 2)}`);
    expect({ seed: SEED, sent, failures: failures.slice(0, 10) }).toEqual({ seed: SEED, sent, failures: [] });
    // The server is still whole: an ordinary request still works (the fuzzing may have deleted the fixtures).
    const after = await fetch(`${server.url}/v1/application`, { headers: auth });
    expect(after.status).toBe(200);
  }, 600_000);
});
