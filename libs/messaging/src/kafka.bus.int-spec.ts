import { randomUUID } from 'node:crypto';
import { ChatEventPayload } from '@chatfn/contracts';
import { runBusContract, waitFor } from './bus.contract';
import { KafkaMessageBus } from './kafka.bus';

function brokers(): string[] {
  const list = process.env.KAFKA_BROKERS?.split(',').filter(Boolean) ?? [];
  if (list.length === 0) throw new Error('KAFKA_BROKERS is not set (the integration tier’s global setup provides it)');
  return list;
}

runBusContract(
  'kafka',
  async () => {
    const bus = new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `contract-${randomUUID().slice(0, 8)}` });
    await bus.start();
    return bus;
  },
  { detectsMissingResponder: false, slackMs: 500 },
);

describe('KafkaMessageBus', () => {
  it('is ready while the broker answers', async () => {
    const bus = new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `ready-${randomUUID().slice(0, 8)}` });
    expect(await bus.ready()).toBe(false);
    await bus.start();
    try {
      expect(await bus.ready()).toBe(true);
    } finally {
      await bus.stop();
    }
    expect(await bus.ready()).toBe(false);
  });

  it('fails to start, and says why, when no broker answers', async () => {
    const bus = new KafkaMessageBus('contract-test', { brokers: ['127.0.0.1:1'], instanceId: 'nobody' });
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined); // one line per connection retry
    try {
      await expect(bus.start()).rejects.toThrow(/ECONNREFUSED|connect/i);
    } finally {
      quiet.mockRestore();
    }
    expect(await bus.ready()).toBe(false);
  }, 60_000);

  it('keeps a member whose handler outlasts the session timeout in its group: no redelivery', async () => {
    const run = randomUUID().slice(0, 8);
    const bus = new KafkaMessageBus('contract-test', { brokers: brokers(), instanceId: `long-${run}`, sessionTimeoutMs: 6000 });
    await bus.start();
    try {
      const event = (n: number): ChatEventPayload => ({ applicationId: 1, type: 'long', depth: 0, data: { run, n } });
      const calls: number[] = [];
      await bus.subscribe('chat.event.recorded.v1', `long-${run}`, async (env) => {
        if (env.payload.data.run !== run) return;
        calls.push(env.payload.data.n as number);
        // Simulates a handler running longer than the session timeout: without heartbeats meanwhile, the member
        // would be dropped, its commit refused, and the message delivered again.
        if (env.payload.data.n === 1) await new Promise((resolve) => setTimeout(resolve, 9000));
      });
      await bus.publish('chat.event.recorded.v1', event(1), { key: run });
      await bus.publish('chat.event.recorded.v1', event(2), { key: run });

      await waitFor(() => calls.includes(2), 30_000);
      expect(calls).toEqual([1, 2]);
    } finally {
      await bus.stop();
    }
  }, 60_000);
});
