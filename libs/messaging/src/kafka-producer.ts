import { Envelope } from '@chatfn/contracts';
import { Message, Producer, TopicMessages } from 'kafkajs';
import { packedEnvelopeJson, packedMessage } from './kafka-codec';

/** A record as it is (request-reply), or an envelope that goes packed with the others of its topic and key. */
export type OutgoingRecord = { topic: string; message: Message } | { topic: string; envelope: Envelope };

/** Packed records stay well under the broker's default 1 MB record batch, whatever the partition's other records. */
const MAX_PACKED_BYTES = 128 * 1024;

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

/**
 * The request's records by topic. Envelopes of one topic and key become one packed record (several when large), in
 * the order they were sent; keys stay on their partitions, so each key's order holds across records and requests.
 */
function byTopic(batch: Waiting[]): TopicMessages[] {
  const topics = new Map<string, Message[]>();
  const packs = new Map<string, { topic: string; key: string; jsons: string[]; bytes: number }>();
  const push = (topic: string, message: Message) => {
    const messages = topics.get(topic);
    if (messages) messages.push(message);
    else topics.set(topic, [message]);
  };
  const close = (id: string) => {
    const pack = packs.get(id)!;
    packs.delete(id);
    push(pack.topic, packedMessage(pack.key, pack.jsons));
  };
  for (const { records } of batch) {
    for (const record of records) {
      if (!('envelope' in record)) {
        push(record.topic, record.message);
        continue;
      }
      const { topic, envelope } = record;
      const json = packedEnvelopeJson(envelope);
      const id = `${topic}\u0000${envelope.key}`;
      let pack = packs.get(id);
      if (pack && pack.bytes + json.length > MAX_PACKED_BYTES) {
        close(id);
        pack = undefined;
      }
      if (!pack) {
        pack = { topic, key: envelope.key, jsons: [], bytes: 0 };
        packs.set(id, pack);
      }
      pack.jsons.push(json);
      pack.bytes += json.length + 1;
    }
  }
  for (const id of [...packs.keys()]) close(id);
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
