/**
 * jest globalTeardown: stops what global-setup.ts started (by PID, with SIGKILL as the last resort), also after
 * failed tests, and restores DATABASE_URL / KAFKA_BROKERS. Also stops anything still recorded for this process
 * in .chatfn/test-infra/<pid>.json.
 */
import { infraState, reapStale, writeStateFile } from './global-setup';
import { log } from './util';

export default async function globalTeardown(): Promise<void> {
  const s = infraState();
  const t0 = Date.now();
  if (s.ready) await s.ready.catch(() => {});
  const results = await Promise.allSettled([s.postgres?.stop(), s.kafka?.stop()]);
  for (const r of results) if (r.status === 'rejected') log(`teardown: ${String(r.reason)}`);
  s.postgres = s.kafka = undefined;
  s.ready = undefined;
  writeStateFile(s);
  // anything recorded on disk but not in this process (should be nothing)
  await reapStale(true);
  if (s.savedEnv) {
    for (const [k, v] of Object.entries(s.savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    s.savedEnv = undefined;
  }
  log(`infra stopped in ${Date.now() - t0} ms`);
}
