import { randomUUID } from 'node:crypto';
import { runBusContract } from './bus.contract';
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
});
