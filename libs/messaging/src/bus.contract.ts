import { randomUUID } from 'node:crypto';
import {
  BuildStatusPayload,
  ChatEventPayload,
  Envelope,
  ExecutionRequest,
  InvocationDeadLetteredPayload,
  RequestPayloads,
} from '@chatfn/contracts';
import { MessageBus, MessagingError, Subscription } from './message-bus';

/**
 * The behaviour every MessageBus transport must show, declared once and run against each of them
 * (in-process.bus.spec.ts, kafka.bus.int-spec.ts). `makeBus` returns a started bus.
 */
export interface BusContractOptions {
  /** The transport rejects at once when nobody responds (in-process); otherwise the request times out (Kafka). */
  detectsMissingResponder: boolean;
  /** Extra time a transport may take beyond what the test waits for (Kafka: group joins, fetch round trips). */
  slackMs: number;
}

const CHAT = 'chat.event.recorded.v1';
const EXECUTION = 'executor.execution.requested.v1';
const DEAD_LETTER = 'executor.invocation.dead-lettered.v1';

export function runBusContract(name: string, makeBus: () => Promise<MessageBus>, options: BusContractOptions): void {
  const { slackMs } = options;
  const waitMs = 5000 + slackMs * 10;
  // Waits inside a test fail first, with a clearer message; Kafka's first group join on a new broker takes seconds.
  const timeoutMs = waitMs * 3;
  const it = (title: string, fn: () => Promise<void>) => test(title, fn, timeoutMs);

  describe(`MessageBus contract: ${name}`, () => {
    let bus: MessageBus;
    const open: Subscription[] = [];
    const keep = <S extends Subscription>(s: S): S => (open.push(s), s);

    beforeAll(async () => {
      bus = await makeBus();
    }, timeoutMs);
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    afterAll(async () => {
      await bus?.stop();
    }, timeoutMs);

    it('delivers a published message to a subscriber through the typed API', async () => {
      const run = uid();
      const got: Envelope<ChatEventPayload>[] = [];
      keep(await bus.subscribe(CHAT, `g-${run}`, async (env) => void (mine(env, run) && got.push(env))));

      const sent = await bus.publish(CHAT, chatEvent(run, 1), { key: `k-${run}` });

      await waitFor(() => got.length === 1, waitMs);
      expect(got[0]).toMatchObject({
        topic: CHAT,
        key: `k-${run}`,
        eventId: sent.eventId,
        correlationId: sent.correlationId,
        causationId: sent.causationId,
        producer: bus.producer,
        schemaVersion: 1,
        payload: chatEvent(run, 1),
      });
    });

    it('propagates correlation from the message being handled', async () => {
      const run = uid();
      const got: Envelope<ChatEventPayload>[] = [];
      keep(await bus.subscribe(CHAT, `g-${run}`, async (env) => void (mine(env, run) && got.push(env))));

      const cause = await bus.publish(CHAT, chatEvent(run, 1), { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
      const effect = await bus.publish(CHAT, chatEvent(run, 2), { cause });

      await waitFor(() => got.length === 2, waitMs);
      const received = got.find((e) => e.eventId === effect.eventId);
      expect(received).toMatchObject({
        correlationId: cause.eventId,
        causationId: cause.eventId,
        traceparent: cause.traceparent,
      });
    });

    it('gives every message to each of two groups', async () => {
      const run = uid();
      const first = new Set<string>();
      const second = new Set<string>();
      keep(await bus.subscribe(CHAT, `g1-${run}`, async (env) => void (mine(env, run) && first.add(env.eventId))));
      keep(await bus.subscribe(CHAT, `g2-${run}`, async (env) => void (mine(env, run) && second.add(env.eventId))));

      const sent = await Promise.all(range(10).map((n) => bus.publish(CHAT, chatEvent(run, n), { key: `k-${run}-${n}` })));

      await waitFor(() => first.size === 10 && second.size === 10, waitMs);
      const ids = sent.map((e) => e.eventId).sort();
      expect([...first].sort()).toEqual(ids);
      expect([...second].sort()).toEqual(ids);
    });

    it('splits a group’s messages between its members, each key on one member, without duplicates', async () => {
      const run = uid();
      const group = `g-${run}`;
      const byMember: Array<Array<Envelope<ChatEventPayload>>> = [[], []];
      for (const member of [0, 1]) {
        keep(await bus.subscribe(CHAT, group, async (env) => void (mine(env, run) && byMember[member].push(env))));
      }

      const keys = range(24).map((n) => `k-${run}-${n}`);
      const envelopes = keys.flatMap((key, n) => [0, 1].map((i) => bus.envelope(CHAT, chatEvent(run, n * 2 + i), { key })));
      await bus.publishEnvelopes(envelopes);

      const received = () => byMember[0].length + byMember[1].length;
      await waitFor(() => received() >= envelopes.length, waitMs);
      expect(received()).toBe(envelopes.length);
      expect(new Set(byMember.flat().map((e) => e.eventId)).size).toBe(envelopes.length);
      expect(byMember[0].length).toBeGreaterThan(0);
      expect(byMember[1].length).toBeGreaterThan(0);
      const keysOf = (member: number) => new Set(byMember[member].map((e) => e.key));
      for (const key of keysOf(0)) expect(keysOf(1).has(key)).toBe(false);
    });

    it('keeps per-key order while handling keys in parallel', async () => {
      const run = uid();
      const perKey = 20;
      const keys = range(6).map((n) => `k-${run}-${n}`);
      const seen = new Map<string, number[]>();
      let running = 0;
      let maxRunning = 0;
      keep(
        await bus.subscribe(
          CHAT,
          `g-${run}`,
          async (env) => {
            if (!mine(env, run)) return;
            running++;
            maxRunning = Math.max(maxRunning, running);
            await pause(1 + Math.floor(Math.random() * 3));
            seen.set(env.key, [...(seen.get(env.key) ?? []), env.payload.data.n as number]);
            running--;
          },
          { concurrency: 4 },
        ),
      );

      const envelopes = range(perKey).flatMap((n) => keys.map((key) => bus.envelope(CHAT, chatEvent(run, n), { key })));
      await bus.publishEnvelopes(envelopes);

      await waitFor(() => keys.every((key) => seen.get(key)?.length === perKey), waitMs);
      for (const key of keys) expect(seen.get(key)).toEqual(range(perKey));
      expect(maxRunning).toBeGreaterThan(1);
      expect(maxRunning).toBeLessThanOrEqual(4);
    });

    it('redelivers a message whose handler threw, holding back the key’s later messages', async () => {
      const run = uid();
      const key = `k-${run}`;
      const deliveries: string[] = [];
      let failuresLeft = 2;
      keep(
        await bus.subscribe(CHAT, `g-${run}`, async (env) => {
          if (!mine(env, run)) return;
          deliveries.push(env.eventId);
          if (env.payload.data.n === 1 && failuresLeft-- > 0) throw new Error('transient failure (expected by the test)');
        }),
      );

      const first = bus.envelope(CHAT, chatEvent(run, 1), { key });
      const second = bus.envelope(CHAT, chatEvent(run, 2), { key });
      await bus.publishEnvelopes([first, second]);

      await waitFor(() => deliveries.includes(second.eventId), waitMs);
      expect(deliveries).toEqual([first.eventId, first.eventId, first.eventId, second.eventId]);
    });

    it('hands a batch subscriber what is available at once, each key in order, none twice, no batch over maxBatch', async () => {
      const run = uid();
      const keys = range(4).map((n) => `k-${run}-${n}`);
      const perKey = 30;
      const seen = new Map<string, number[]>();
      const sizes: number[] = [];
      const first = gate();
      let calls = 0;
      keep(
        await bus.subscribeBatch(
          CHAT,
          `g-${run}`,
          async (envs) => {
            sizes.push(envs.length);
            // The first batch waits until everything is published, so a backlog builds behind it.
            if (calls++ === 0) await first.opened;
            for (const env of envs) if (mine(env, run)) seen.set(env.key, [...(seen.get(env.key) ?? []), env.payload.data.n as number]);
          },
          { maxBatch: 25 },
        ),
      );

      await bus.publishEnvelopes(keys.map((key) => bus.envelope(CHAT, chatEvent(run, 0), { key })));
      await waitFor(() => calls > 0, waitMs);
      await bus.publishEnvelopes(range(perKey - 1).flatMap((n) => keys.map((key) => bus.envelope(CHAT, chatEvent(run, n + 1), { key }))));
      first.open();

      await waitFor(() => keys.every((key) => seen.get(key)?.length === perKey), waitMs);
      for (const key of keys) expect(seen.get(key)).toEqual(range(perKey));
      expect(Math.max(...sizes)).toBeGreaterThan(1);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(25);
    });

    it('redelivers the whole batch whose handler threw, and nothing of a batch that succeeded', async () => {
      const run = uid();
      const key = `k-${run}`;
      const attempts: string[][] = [];
      const handled: string[] = [];
      let failuresLeft = 1;
      keep(
        await bus.subscribeBatch(CHAT, `g-${run}`, async (envs) => {
          const ids = envs.filter((env) => mine(env, run)).map((env) => env.eventId);
          if (ids.length === 0) return;
          attempts.push(ids);
          if (failuresLeft-- > 0) throw new Error('transient failure (expected by the test)');
          handled.push(...ids);
        }),
      );

      const sent = range(3).map((n) => bus.envelope(CHAT, chatEvent(run, n), { key }));
      await bus.publishEnvelopes(sent);
      await waitFor(() => handled.length >= 3, waitMs);
      // A later message shows that the handled ones were not delivered again.
      const later = await bus.publish(CHAT, chatEvent(run, 3), { key });
      await waitFor(() => handled.includes(later.eventId), waitMs);

      expect(handled).toEqual([...sent.map((e) => e.eventId), later.eventId]);
      // The failed batch came again from its first message.
      expect(attempts[1][0]).toBe(attempts[0][0]);
      expect(attempts[0][0]).toBe(sent[0].eventId);
    });

    it('replays the retained messages to a new group subscribing from the beginning', async () => {
      // A rarely used topic: a group reading from the beginning reads its whole history.
      const run = uid();
      const mineOnly = (env: Envelope<InvocationDeadLetteredPayload>) => env.payload.request.sourceEventId === run;
      const sent = await Promise.all(range(3).map((n) => bus.publish(DEAD_LETTER, deadLetter(run, n), { key: `k-${run}` })));
      const replayed: string[] = [];
      const fresh: string[] = [];
      keep(await bus.subscribe(DEAD_LETTER, `old-${run}`, async (env) => void (mineOnly(env) && replayed.push(env.eventId)), { fromBeginning: true }));
      keep(await bus.subscribe(DEAD_LETTER, `new-${run}`, async (env) => void (mineOnly(env) && fresh.push(env.eventId))));

      const later = await bus.publish(DEAD_LETTER, deadLetter(run, 3), { key: `k-${run}` });

      await waitFor(() => replayed.length === 4 && fresh.length === 1, waitMs);
      expect(replayed).toEqual([...sent, later].map((e) => e.eventId));
      expect(fresh).toEqual([later.eventId]);
    });

    it('rejects an invalid payload at publish', async () => {
      const wrong = { applicationId: 'not a number', type: 'x', depth: 0, data: {} } as unknown as ChatEventPayload;
      await expect(bus.publish(CHAT, wrong)).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });

      const buildStatus: BuildStatusPayload = {
        applicationId: 1,
        buildId: 'b',
        runtimeRevision: 1,
        contentHash: 'h',
        driver: 'process',
        status: 'requested',
      };
      // @ts-expect-error a build status is not a chat event: the typed API does not compile with it
      expect(() => bus.envelope(CHAT, buildStatus)).toThrow(MessagingError);
    });

    it('answers a request with the responder’s reply', async () => {
      const run = uid();
      const asked: Envelope<RequestPayloads[typeof EXECUTION]>[] = [];
      keep(
        await bus.respond(EXECUTION, `r-${run}`, async (env) => {
          asked.push(env);
          return { outcome: 'ran', result: { echo: env.payload.event.n }, logs: 'ok', durationMs: 1 };
        }),
      );

      const reply = await bus.request(EXECUTION, executionRequest(run, 7), { deadlineMs: 2000 + slackMs * 10 });

      expect(reply).toEqual({ outcome: 'ran', result: { echo: 7 }, logs: 'ok', durationMs: 1 });
      expect(asked).toHaveLength(1);
      expect(asked[0].payload).toMatchObject({ applicationId: 1, triggerType: 'user.attempted.send_message', depth: 0 });
    });

    it('rejects at the deadline when the responder does not answer in time', async () => {
      const run = uid();
      const release = gate();
      let started = false;
      keep(
        await bus.respond(EXECUTION, `r-${run}`, async () => {
          started = true;
          await release.opened;
          return { outcome: 'no-function', logs: '', durationMs: 0 };
        }),
      );
      const deadlineMs = 300;

      const t0 = performance.now();
      const outcome = await bus.request(EXECUTION, executionRequest(run, 1), { deadlineMs }).catch((e: unknown) => e);
      const elapsed = performance.now() - t0;
      release.open();

      expect(started).toBe(true);
      expect(outcome).toBeInstanceOf(MessagingError);
      expect(outcome).toMatchObject({ code: 'REQUEST_TIMEOUT' });
      expect(elapsed).toBeGreaterThanOrEqual(deadlineMs - 1);
      expect(elapsed).toBeLessThanOrEqual(deadlineMs + 50);
    });

    it('passes a responder’s error to the caller', async () => {
      const run = uid();
      keep(
        await bus.respond(EXECUTION, `r-${run}`, async () => {
          throw new Error('the executor is on fire');
        }),
      );

      await expect(bus.request(EXECUTION, executionRequest(run, 1), { deadlineMs: 2000 + slackMs * 10 })).rejects.toMatchObject({
        code: 'REMOTE_ERROR',
        message: expect.stringContaining('the executor is on fire'),
      });
    });

    it('matches each of many concurrent requests with its own reply', async () => {
      const run = uid();
      keep(
        await bus.respond(EXECUTION, `r-${run}`, async (env) => {
          const n = env.payload.event.n as number;
          await pause(n % 5);
          return { outcome: 'ran', result: { echo: n }, logs: '', durationMs: 0 };
        }),
      );

      const replies = await Promise.all(
        range(50).map((n) => bus.request(EXECUTION, executionRequest(run, n), { deadlineMs: 5000 + slackMs * 10 })),
      );

      expect(replies.map((r) => r.result)).toEqual(range(50).map((n) => ({ echo: n })));
    });

    it(
      options.detectsMissingResponder
        ? 'rejects at once when nobody responds'
        : 'times out when nobody responds',
      async () => {
        const deadlineMs = 300;
        const t0 = performance.now();
        const outcome = await bus.request(EXECUTION, executionRequest(uid(), 1), { deadlineMs }).catch((e: unknown) => e);
        const elapsed = performance.now() - t0;

        if (options.detectsMissingResponder) {
          expect(outcome).toMatchObject({ code: 'NO_RESPONDER' });
          expect(elapsed).toBeLessThan(deadlineMs / 2);
        } else {
          expect(outcome).toMatchObject({ code: 'REQUEST_TIMEOUT' });
          expect(elapsed).toBeLessThanOrEqual(deadlineMs + 50);
        }
      },
    );

    it('stop() waits for running handlers, then refuses new work', async () => {
      const own = await makeBus();
      const run = uid();
      const release = gate();
      let handlerStarted = false;
      let handlerFinished = false;
      await own.subscribe(CHAT, `g-${run}`, async (env) => {
        if (!mine(env, run)) return;
        handlerStarted = true;
        await release.opened;
        handlerFinished = true;
      });
      await own.publish(CHAT, chatEvent(run, 1));
      await waitFor(() => handlerStarted, waitMs);

      let stopped = false;
      const stopping = own.stop().then(() => (stopped = true));
      // A negative can only be observed over time: long enough for a stop that does not wait to have finished.
      await pause(100);
      expect(stopped).toBe(false);
      release.open();
      await stopping;

      expect(handlerFinished).toBe(true);
      await expect(own.publish(CHAT, chatEvent(run, 2))).rejects.toMatchObject({ code: 'BUS_STOPPED' });
      await expect(own.request(EXECUTION, executionRequest(run, 1), { deadlineMs: 100 })).rejects.toMatchObject({
        code: 'BUS_STOPPED',
      });
      expect(await own.ready()).toBe(false);
    });
  });
}

export async function waitFor(condition: () => boolean, timeoutMs: number, pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await pause(pollMs);
  }
}

function chatEvent(run: string, n: number): ChatEventPayload {
  return { applicationId: 1, type: 'contract.test', depth: 0, data: { run, n } };
}

function deadLetter(run: string, n: number): InvocationDeadLetteredPayload {
  const request = {
    invocationId: `${run}-${n}`,
    applicationId: 1,
    functionId: 1,
    triggerType: 'user.sent.message',
    versionNumber: 1,
    sourceEventId: run,
    depth: 0,
    attempt: 3,
    timeoutMs: 1000,
    event: {},
  };
  return { request, error: { name: 'Error', message: 'contract test' } };
}

function executionRequest(run: string, n: number): ExecutionRequest {
  return { applicationId: 1, triggerType: 'user.attempted.send_message', event: { run, n }, deadlineMs: 1000, depth: 0 };
}

/** Topics are shared by all tests (and runs): each test only looks at its own messages. */
function mine(env: Envelope<ChatEventPayload>, run: string): boolean {
  return env.payload.data.run === run;
}

function uid(): string {
  return randomUUID().slice(0, 8);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
