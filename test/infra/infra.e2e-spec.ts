/**
 * Smoke test of the test infrastructure itself: the servers global-setup.ts started answer, and the Docker base
 * image runs node (skipped when no Docker daemon is reachable).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { BASE_IMAGE, dockerAvailable, ensureBaseImage } from './docker';

const exec = promisify(execFile);

describe('test infrastructure', () => {
  it('exports DATABASE_URL and KAFKA_BROKERS', () => {
    expect(process.env.DATABASE_URL).toMatch(/^postgres(ql)?:\/\//);
    expect(process.env.KAFKA_BROKERS).toMatch(/:\d+/);
  });

  it('PostgreSQL answers on DATABASE_URL', async () => {
    const client = new Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string; one: number }>('SELECT current_database() AS db, 1 AS one');
      expect(rows[0].one).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('Kafka round-trips a message through a consumer group', async () => {
    const kafka = new Kafka({
      clientId: 'infra-smoke',
      brokers: process.env.KAFKA_BROKERS!.split(','),
      logLevel: logLevel.NOTHING,
    });
    const topic = `infra-smoke-${Date.now()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'hello' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${topic}-g` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const value = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) });
    });
    await consumer.disconnect();
    expect(value).toBe('hello');
  });

  it('Docker base image runs node', async () => {
    if (!(await dockerAvailable())) {
      console.warn('docker not available: skipping base image check');
      return;
    }
    const image = await ensureBaseImage();
    expect(image).toBe(BASE_IMAGE);
    const { stdout } = await exec('docker', ['run', '--rm', '--network', 'none', image, 'node', '-e', 'console.log(process.version)']);
    expect(stdout.trim()).toBe(process.version);
  });
});
