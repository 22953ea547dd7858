import { Message, Producer, TopicMessages } from 'kafkajs';

export interface OutgoingRecord {
  topic: string;
  message: Message;
}

interface Waiting {
  records: OutgoingRecord[];
  resolve(): void;
  reject(err: unknown): void;
}

const MAX_RECORDS_PER_REQUEST = 1000;

/**
 * Sends records in call order, one produce request at a time, coalescing everything queued while a request is in
 * flight into the next one. kafkajs has no linger: without this, every publish would be its own request, and with
 * one request in flight (needed for per-key order) they would queue behind each other anyway.
 */
export class BatchingProducer {
  private queue: Waiting[] = [];
  private flushing = false;

  constructor(private readonly producer: Producer) {}

  send(records: OutgoingRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      try {
        await this.producer.sendBatch({ topicMessages: byTopic(batch), acks: -1 });
        for (const waiting of batch) waiting.resolve();
      } catch (err) {
        if (batch.length === 1) batch[0].reject(err);
        else await this.sendOneByOne(batch); // so that one bad record fails only its own caller
      }
    }
    this.flushing = false;
  }

  private async sendOneByOne(batch: Waiting[]): Promise<void> {
    for (const waiting of batch) {
      try {
        await this.producer.sendBatch({ topicMessages: byTopic([waiting]), acks: -1 });
        waiting.resolve();
      } catch (err) {
        waiting.reject(err);
      }
    }
  }

  private takeBatch(): Waiting[] {
    let count = 0;
    let taken = 0;
    while (taken < this.queue.length && (taken === 0 || count + this.queue[taken].records.length <= MAX_RECORDS_PER_REQUEST)) {
      count += this.queue[taken].records.length;
      taken++;
    }
    return this.queue.splice(0, taken);
  }
}

function byTopic(batch: Waiting[]): TopicMessages[] {
  const topics = new Map<string, Message[]>();
  for (const { records } of batch) {
    for (const { topic, message } of records) {
      const messages = topics.get(topic);
      if (messages) messages.push(message);
      else topics.set(topic, [message]);
    }
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
