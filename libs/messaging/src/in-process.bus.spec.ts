import { ChatEventPayload } from '@chatfn/contracts';
import { runBusContract, waitFor } from './bus.contract';
import { InProcessMessageBus } from './in-process.bus';

runBusContract(
  'in-process',
  async () => {
    const bus = new InProcessMessageBus('contract-test');
    await bus.start();
    return bus;
  },
  { detectsMissingResponder: true, slackMs: 0 },
);

describe('InProcessMessageBus', () => {
  const CHAT = 'chat.event.recorded.v1';
  const event = (n: number): ChatEventPayload => ({ applicationId: 1, type: 't', depth: 0, data: { n } });
  let bus: InProcessMessageBus;

  beforeEach(async () => {
    bus = new InProcessMessageBus('unit-test', { logCapacity: 5 });
    await bus.start();
  });
  afterEach(() => bus.stop());

  it('replays only the last logCapacity messages to a group subscribing from the beginning', async () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7]) await bus.publish(CHAT, event(n));
    const got: number[] = [];
    await bus.subscribe(CHAT, 'late', async (env) => void got.push(env.payload.data.n as number), { fromBeginning: true });

    await waitFor(() => got.length === 5, 1000);
    expect(got.sort()).toEqual([3, 4, 5, 6, 7]);
  });

  it('hands a leaving member’s keys to the remaining member without losing messages', async () => {
    const got = new Set<number>();
    const first = await bus.subscribe(CHAT, 'g', async (env) => void got.add(env.payload.data.n as number));
    await bus.subscribe(CHAT, 'g', async (env) => void got.add(env.payload.data.n as number));
    const sends = Array.from({ length: 40 }, (_, n) => bus.publish(CHAT, event(n), { key: `k${n % 8}` }));
    await first.close();
    await Promise.all(sends);

    await waitFor(() => got.size === 40, 1000);
  });

  it('resumes a group whose members all left where it stopped', async () => {
    const got: number[] = [];
    const handler = async (env: { payload: ChatEventPayload }) => void got.push(env.payload.data.n as number);
    const sub = await bus.subscribe(CHAT, 'g', handler);
    await bus.publish(CHAT, event(1));
    await waitFor(() => got.length === 1, 1000);
    await sub.close();

    await bus.publish(CHAT, event(2));
    await bus.subscribe(CHAT, 'g', handler);

    await waitFor(() => got.length === 2, 1000);
    expect(got).toEqual([1, 2]);
  });

  it('is ready between start and stop', async () => {
    expect(await bus.ready()).toBe(true);
    await bus.stop();
    expect(await bus.ready()).toBe(false);
  });
});
