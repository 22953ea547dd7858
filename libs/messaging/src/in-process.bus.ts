import { Envelope } from '@chatfn/contracts';
import { errorMessage } from './backoff';
import { BoundedLog } from './bounded-log';
import { assertCatalogueTopic } from './catalogue';
import { InProcessGroup } from './in-process-group';
import { BatchHandler, MessageBus, MessagingError, RawSubscribeOptions, Subscription } from './message-bus';
import { PendingRequests } from './pending-requests';

export interface InProcessBusOptions {
  /** Messages kept per topic for groups that subscribe later with fromBeginning (default 10 000). */
  logCapacity?: number;
}

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_LOG_CAPACITY = 10_000;

interface TopicState {
  readonly log: BoundedLog;
  readonly groups: Map<string, InProcessGroup>;
}

interface Responder {
  readonly group: string;
  readonly handler: (envelope: Envelope) => Promise<unknown>;
  readonly inFlight: Set<Promise<void>>;
}

type BusState = 'created' | 'running' | 'stopping' | 'stopped';

/**
 * The embedded bus: everything in one Node process, same contract as Kafka (consumer groups, per-key order,
 * redelivery with backoff, replay from a bounded log, request-reply with deadlines). Nothing survives a restart.
 * Several responder groups on one request topic take requests in turn (with Kafka each group would answer and
 * the first reply would win).
 */
export class InProcessMessageBus extends MessageBus {
  private readonly topics = new Map<string, TopicState>();
  private readonly responders = new Map<string, Responder[]>();
  private readonly pending = new PendingRequests();
  private readonly inFlightResponses = new Set<Promise<void>>();
  private readonly logCapacity: number;
  private state: BusState = 'created';
  private requestSeq = 0;
  private nextResponder = 0;

  constructor(producer: string, options: InProcessBusOptions = {}) {
    super(producer);
    this.logCapacity = options.logCapacity ?? DEFAULT_LOG_CAPACITY;
  }

  async start(): Promise<void> {
    this.assertNotStopped();
    this.state = 'running';
  }

  /** Waits for running handlers and responders, then rejects what is still waiting and any later use. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    const groups = [...this.topics.values()].flatMap((t) => [...t.groups.values()]);
    await Promise.all(groups.map((g) => g.whenIdle()));
    while (this.inFlightResponses.size > 0) await Promise.all(this.inFlightResponses);
    for (const group of groups) group.dispose();
    this.state = 'stopped';
    this.pending.rejectAll(new MessagingError('BUS_STOPPED', 'the bus stopped before the reply came'));
  }

  async ready(): Promise<boolean> {
    return this.state === 'running';
  }

  async publishEnvelopes(envelopes: Envelope[]): Promise<void> {
    this.assertNotStopped();
    for (const envelope of envelopes) assertCatalogueTopic(envelope.topic);
    for (const envelope of envelopes) {
      const topic = this.topic(envelope.topic);
      const entry = topic.log.append(envelope);
      for (const group of topic.groups.values()) group.offer(entry);
    }
  }

  protected async subscribeRaw(
    topic: string,
    group: string,
    handler: BatchHandler<unknown>,
    opts: RawSubscribeOptions,
  ): Promise<Subscription> {
    this.assertNotStopped();
    const state = this.topic(topic);
    let consumerGroup = state.groups.get(group);
    if (!consumerGroup) {
      consumerGroup = new InProcessGroup(topic, group, state.log, () => this.state === 'stopping' || this.state === 'stopped');
      state.groups.set(group, consumerGroup);
    }
    return consumerGroup.join(handler, opts.concurrency ?? DEFAULT_CONCURRENCY, opts.fromBeginning ?? false, opts.maxBatch);
  }

  protected requestRaw(envelope: Envelope, deadlineMs: number): Promise<unknown> {
    this.assertNotStopped();
    const candidates = this.responders.get(envelope.topic);
    if (!candidates?.length) {
      return Promise.reject(new MessagingError('NO_RESPONDER', `no responder for ${envelope.topic}`));
    }
    const responder = candidates[this.nextResponder++ % candidates.length];
    const id = String(++this.requestSeq);
    const reply = this.pending.add(id, envelope.topic, deadlineMs);
    const response: Promise<void> = Promise.resolve()
      .then(() => responder.handler(envelope))
      .then(
        (value) => void this.pending.resolve(id, value),
        (err: unknown) => void this.pending.reject(id, new MessagingError('REMOTE_ERROR', errorMessage(err))),
      )
      .finally(() => {
        this.inFlightResponses.delete(response);
        responder.inFlight.delete(response);
      });
    this.inFlightResponses.add(response);
    responder.inFlight.add(response);
    return reply;
  }

  protected async respondRaw(
    topic: string,
    group: string,
    handler: (envelope: Envelope) => Promise<unknown>,
  ): Promise<Subscription> {
    this.assertNotStopped();
    const responder: Responder = { group, handler, inFlight: new Set() };
    const list = this.responders.get(topic) ?? [];
    list.push(responder);
    this.responders.set(topic, list);
    return {
      close: async () => {
        const index = list.indexOf(responder);
        if (index >= 0) list.splice(index, 1);
        await Promise.all(responder.inFlight);
      },
    };
  }

  private topic(name: string): TopicState {
    let state = this.topics.get(name);
    if (!state) {
      state = { log: new BoundedLog(this.logCapacity), groups: new Map() };
      this.topics.set(name, state);
    }
    return state;
  }

  private assertNotStopped(): void {
    if (this.state === 'stopped') throw new MessagingError('BUS_STOPPED', 'the bus is stopped');
  }
}
