import { MessagingError } from './message-bus';

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Requests waiting for their reply, each bounded by its own deadline timer (cleared when the reply comes). */
export class PendingRequests {
  private readonly waiting = new Map<string, Waiter>();

  get size(): number {
    return this.waiting.size;
  }

  add(id: string, topic: string, deadlineMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new MessagingError('REQUEST_TIMEOUT', `no reply on ${topic} within ${deadlineMs} ms`));
      }, deadlineMs);
      this.waiting.set(id, { resolve, reject, timer });
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
  }

  private take(id: string): Waiter | undefined {
    const waiter = this.waiting.get(id);
    if (!waiter) return undefined;
    clearTimeout(waiter.timer);
    this.waiting.delete(id);
    return waiter;
  }
}
