import { MessagingError } from './message-bus';

interface Waiter {
  readonly id: string;
  readonly topic: string;
  readonly deadlineMs: number;
  readonly deadlineAt: number;
  resolve(value: unknown): void;
  reject(error: Error): void;
  settled: boolean;
}

/**
 * Requests waiting for their reply, each rejected with REQUEST_TIMEOUT at its deadline.
 *
 * One timer serves all of them, armed for the earliest deadline (a min-heap of waiters): a Node timer per request
 * would be created and cleared on every round trip of the hot path. Answered waiters stay in the heap, marked
 * settled, until they reach its top, the heap is compacted, or nothing waits any more.
 */
export class PendingRequests {
  private readonly waiting = new Map<string, Waiter>();
  private heap: Waiter[] = [];
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;

  get size(): number {
    return this.waiting.size;
  }

  add(id: string, topic: string, deadlineMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { id, topic, deadlineMs, deadlineAt: performance.now() + deadlineMs, resolve, reject, settled: false };
      this.waiting.set(id, waiter);
      this.push(waiter);
      if (waiter.deadlineAt < this.timerAt) this.arm(waiter.deadlineAt);
      else if (this.waiting.size === 1) this.timer?.ref();
      if (this.heap.length > 1024 && this.heap.length > 4 * this.waiting.size) this.compact();
    });
  }

  /** False when the request is unknown (already answered, timed out, or from another run). */
  resolve(id: string, value: unknown): boolean {
    const waiter = this.take(id);
    waiter?.resolve(value);
    return waiter !== undefined;
  }

  reject(id: string, error: Error): boolean {
    const waiter = this.take(id);
    waiter?.reject(error);
    return waiter !== undefined;
  }

  rejectAll(error: Error): void {
    for (const id of [...this.waiting.keys()]) this.reject(id, error);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private take(id: string): Waiter | undefined {
    const waiter = this.waiting.get(id);
    if (!waiter) return undefined;
    waiter.settled = true;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.idle();
    return waiter;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(at - performance.now())));
  }

  /**
   * Nothing waits: drop the settled waiters and let the timer stop keeping the process alive. It stays armed, so
   * that the next request usually finds a timer already due before its own deadline (no timer call at all).
   */
  private idle(): void {
    this.heap = [];
    this.timer?.unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    for (let top = this.heap[0]; top && (top.settled || top.deadlineAt <= now); top = this.heap[0]) {
      this.pop();
      if (top.settled) continue;
      this.take(top.id);
      top.reject(new MessagingError('REQUEST_TIMEOUT', `no reply on ${top.topic} within ${top.deadlineMs} ms`));
    }
    const next = this.heap[0];
    if (next) this.arm(next.deadlineAt);
  }

  private compact(): void {
    const live = this.heap.filter((w) => !w.settled);
    this.heap = [];
    for (const waiter of live) this.push(waiter);
  }

  private push(waiter: Waiter): void {
    const heap = this.heap;
    heap.push(waiter);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (heap[parent].deadlineAt <= heap[i].deadlineAt) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && heap[left].deadlineAt < heap[smallest].deadlineAt) smallest = left;
      if (right < heap.length && heap[right].deadlineAt < heap[smallest].deadlineAt) smallest = right;
      if (smallest === i) return;
      [heap[smallest], heap[i]] = [heap[i], heap[smallest]];
      i = smallest;
    }
  }
}
