import { InProcessMessageBus } from './in-process.bus';
import { KafkaMessageBus } from './kafka.bus';
import { MessageBus } from './message-bus';

export interface MessageBusOptions {
  /** The service publishing (goes into every envelope). */
  producer: string;
  /** Stable name of this process; names its Kafka reply topic. */
  instanceId: string;
  /** Kafka when given (and not empty), the in-process bus otherwise. */
  kafkaBrokers?: string[];
  /** Partitions of the topics the Kafka bus creates (default 6). */
  partitions?: number;
  /** Prefix of the Kafka topics and consumer groups (none when empty). */
  namespace?: string;
}

export function createMessageBus(options: MessageBusOptions): MessageBus {
  const { producer, instanceId, kafkaBrokers, partitions, namespace } = options;
  if (kafkaBrokers && kafkaBrokers.length > 0) {
    return new KafkaMessageBus(producer, { brokers: kafkaBrokers, instanceId, partitions, namespace });
  }
  return new InProcessMessageBus(producer);
}
