import { redeliveryDelayMs, errorMessage } from './backoff';
import { BoundedLog, LogEntry } from './bounded-log';
import { Fifo } from './fifo';
import { BatchHandler, Subscription } from './message-bus';

/** A lane handling a run of several keys' messages keeps the event loop responsive by yielding this often. */
const YIELD_EVERY = 64;

/** The messages of one key not yet handled by the group, delivered one at a time by one member. */
interface KeyLane {
  readonly key: string;
  readonly pending: Fifo<LogEntry>;
  owner?: GroupMember;
  state: 'ready' | 'running' | 'backoff';
  failures: number;
  retryTimer?: NodeJS.Timeout;
}

export class GroupMember implements Subscription {
  closed = false;
  running = 0;
  pumpScheduled = false;
  readonly ready = new Fifo<KeyLane>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly group: InProcessGroup,
    readonly handler: BatchHandler<unknown>,
    readonly concurrency: number,
    /** Messages of one key handed over at once (1 for `subscribe`). */
    readonly maxBatch: number,
  ) {}

  close(): Promise<void> {
    return this.group.leave(this);
  }

  whenIdle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  notifyIfIdle(): void {
    if (this.running > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * A consumer group on one topic of the in-process bus. Each message is queued on its key's lane; a lane is owned by
 * one member (chosen by a hash of the key) and delivered strictly in order — one message at a time, or for a batch
 * subscriber the lane's backlog (up to `maxBatch`) at once — while up to `concurrency` lanes per member run at once.
 * A failed delivery is retried after a backoff, and the lane's later messages wait for it.
 * Like a Kafka group, a group whose members all left remembers where it stopped and resumes there from the log.
 */
export class InProcessGroup {
  private readonly members: GroupMember[] = [];
  private readonly lanes = new Map<string, KeyLane>();
  private running = 0;
  private everJoined = false;
  /** Set while the group has no members: the first offset it has not handled. */
  private resumeAt: number | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly topic: string,
    readonly id: string,
    private readonly log: BoundedLog,
    private readonly isHalted: () => boolean,
  ) {}

  join(handler: BatchHandler<unknown>, concurrency: number, fromBeginning: boolean, maxBatch = 1): GroupMember {
    const member = new GroupMember(this, handler, Math.max(1, Math.floor(concurrency)), Math.max(1, Math.floor(maxBatch)));
    this.members.push(member);
    if (this.members.length > 1) return member;

    const replayFrom = this.everJoined ? this.resumeAt : fromBeginning ? this.log.startOffset : undefined;
    this.everJoined = true;
    this.resumeAt = undefined;
    // Lanes left by the previous members while their last handlers were finishing.
    for (const lane of this.lanes.values()) if (lane.state === 'ready') this.assign(lane);
    if (replayFrom !== undefined) {
      if (replayFrom < this.log.startOffset) {
        console.warn(`[bus] group ${this.id} on ${this.topic} missed ${this.log.startOffset - replayFrom} messages`);
      }
      for (const entry of this.log.from(replayFrom)) this.offer(entry);
    }
    return member;
  }

  offer(entry: LogEntry): void {
    if (this.resumeAt !== undefined) return; // parked: it will replay from the log when a member joins
    const key = entry.envelope.key;
    const lane = this.lanes.get(key);
    if (lane) {
      lane.pending.push(entry);
      return;
    }
    const created: KeyLane = { key, pending: new Fifo(), state: 'ready', failures: 0 };
    created.pending.push(entry);
    this.lanes.set(key, created);
    this.assign(created);
  }

  async leave(member: GroupMember): Promise<void> {
    if (!member.closed) {
      member.closed = true;
      this.members.splice(this.members.indexOf(member), 1);
      for (let lane = member.ready.shift(); lane; lane = member.ready.shift()) {
        if (lane.owner === member && lane.state === 'ready') this.assign(lane);
      }
    }
    await member.whenIdle();
    this.parkIfAbandoned();
  }

  /** Resolves when no handler of this group is running. */
  whenIdle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops retry timers; the group delivers nothing more. */
  dispose(): void {
    for (const lane of this.lanes.values()) clearTimeout(lane.retryTimer);
    this.lanes.clear();
  }

  private assign(lane: KeyLane): void {
    lane.state = 'ready';
    if (this.members.length === 0) {
      lane.owner = undefined;
      return;
    }
    const owner = this.members[hashKey(lane.key) % this.members.length];
    lane.owner = owner;
    owner.ready.push(lane);
    this.schedulePump(owner);
  }

  /** Delivery starts in a microtask so that handlers never run inside the publisher's call. */
  private schedulePump(member: GroupMember): void {
    if (member.pumpScheduled) return;
    member.pumpScheduled = true;
    queueMicrotask(() => {
      member.pumpScheduled = false;
      this.pump(member);
    });
  }

  private pump(member: GroupMember): void {
    while (!member.closed && !this.isHalted() && member.running < member.concurrency && member.ready.length > 0) {
      const lane = member.ready.shift();
      if (!lane || lane.owner !== member || lane.state !== 'ready') continue;
      lane.state = 'running';
      member.running++;
      this.running++;
      void this.drain(lane, member);
    }
  }

  private async drain(lane: KeyLane, member: GroupMember): Promise<void> {
    let streak = 0;
    try {
      for (;;) {
        const entry = lane.pending.peek();
        if (!entry) {
          this.lanes.delete(lane.key);
          return;
        }
        if (member.closed || this.isHalted()) {
          this.assign(lane);
          return;
        }
        if (++streak > YIELD_EVERY) {
          streak = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        const batch = lane.pending.peekMany(member.maxBatch);
        try {
          await member.handler(batch.map((e) => e.envelope));
        } catch (err) {
          this.retryLater(lane, entry, err);
          return;
        }
        for (let i = 0; i < batch.length; i++) lane.pending.shift();
        lane.failures = 0;
      }
    } finally {
      member.running--;
      this.running--;
      member.notifyIfIdle();
      this.pump(member);
      this.notifyIfIdle();
      this.parkIfAbandoned();
    }
  }

  private retryLater(lane: KeyLane, entry: LogEntry, err: unknown): void {
    lane.failures++;
    lane.state = 'backoff';
    const delay = redeliveryDelayMs(lane.failures);
    console.warn(
      `[bus] ${this.topic} handler of group ${this.id} failed on ${entry.envelope.eventId} ` +
        `(attempt ${lane.failures}), redelivering in ${delay} ms: ${errorMessage(err)}`,
    );
    lane.retryTimer = setTimeout(() => {
      lane.retryTimer = undefined;
      if (this.lanes.get(lane.key) === lane) this.assign(lane);
    }, delay);
  }

  /** With no members and no handler running, forget the lanes and remember where to resume. */
  private parkIfAbandoned(): void {
    if (this.members.length > 0 || this.running > 0 || this.resumeAt !== undefined || !this.everJoined) return;
    let resumeAt = this.log.endOffset;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.retryTimer);
      const head = lane.pending.peek();
      if (head && head.offset < resumeAt) resumeAt = head.offset;
    }
    this.lanes.clear();
    this.resumeAt = resumeAt;
  }

  private notifyIfIdle(): void {
    if (this.running > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** FNV-1a: a cheap, stable spread of keys over members. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
