import { startTestServer, TestServer } from '@chatfn/testing';
import { CHAT_MIGRATIONS } from '../../apps/chat/src/chat.migrations';
import { ChatModule } from '../../apps/chat/src/chat.module';

/**
 * The hot path: `POST /v1/channels/{id}/messages` on behalf of a user in a 3-member channel (2 notifications each),
 * over keep-alive HTTP with 16 requests in flight. Prints throughput and latency percentiles; asserts loose bounds
 * (the machine is shared) — the targets are ≥ 1,500 messages/s and p99 ≤ 15 ms.
 */
describe('messaging: send throughput', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ definition: { name: 'chat-messaging-perf', modules: [ChatModule], migrations: CHAT_MIGRATIONS } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('sends messages fast with low latency', async () => {
    const app = await server.createApplication('perf');
    const tok = await (
      await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      })
    ).json();
    const h = { authorization: `Bearer ${(tok as any).access_token}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${server.url}/v1${path}`, { method: 'POST', headers: h, body: JSON.stringify(body) });
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return r.json() as Promise<any>;
    };
    for (const name of ['a', 'b', 'c']) await post('/users', { name, display_name: name, is_guest: false });
    const channels: number[] = [];
    for (let i = 0; i < 8; i++) {
      channels.push((await post('/channels', { type: 'PUBLIC', name: `perf${i}`, members: [{ username: 'a' }, { username: 'b' }, { username: 'c' }] })).id);
    }
    const run = async (total: number, concurrency: number) => {
      const lat: number[] = [];
      let n = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, w) => {
          while (n < total) {
            const i = n++;
            const s = performance.now();
            await post(`/channels/${channels[(w + i) % channels.length]}/messages`, { type: 'TEXT', body: `hello ${i}`, user: { username: 'a' } });
            lat.push(performance.now() - s);
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      lat.sort((x, y) => x - y);
      const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))];
      return { rate: total / secs, p50: p(0.5), p99: p(0.99) };
    };
    await run(300, 8); // warm-up
    const r = await run(2000, 16);
    console.log(`send: ${r.rate.toFixed(0)} msg/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (16 in flight)`);
    const g: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = performance.now();
      await fetch(`${server.url}/v1/channels/${channels[0]}`, { headers: h }).then((x) => x.json());
      g.push(performance.now() - s);
    }
    g.sort((x, y) => x - y);
    console.log(`baseline GET channel (1 in flight): p50 ${g[100].toFixed(1)} ms, p99 ${g[197].toFixed(1)} ms`);
    const c1 = await run(500, 1);
    console.log(`send (1 in flight): ${c1.rate.toFixed(0)} msg/s, p50 ${c1.p50.toFixed(1)} ms, p99 ${c1.p99.toFixed(1)} ms`);
    // Loose sanity bounds only: other engineers' benchmarks share these 2 cores.
    expect(r.rate).toBeGreaterThan(20);
    expect(c1.p99).toBeLessThan(1000);
  }, 120_000);
});
