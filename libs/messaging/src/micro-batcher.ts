/**
 * Group commit for work that is cheaper in bulk (multi-row INSERTs, one produce call for many messages): `add`
 * queues an item and resolves with its own result once the batch holding it was flushed. Nothing waits for a timer:
 * the first item is flushed on the next turn of the event loop; while `maxConcurrent` flushes are running, new items
 * gather and go out together when one finishes — so batches grow with the load and an idle caller pays no delay.
 */
export class MicroBatcher<T, R = void> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxConcurrent: number;
  private readonly weight?: (item: T) => number;

  constructor(
    /** Flushes a batch; returns one result per item, in order (or nothing when R is void). A throw rejects the batch. */
    private readonly flush: (items: T[]) => Promise<R[] | void>,
    opts: {
      /** Largest batch: items, or the sum of their weights when `weight` is given (a heavier single item goes alone). */
      maxBatch?: number;
      maxConcurrent?: number;
      /** Size of an item (e.g. the messages it holds) when items differ in size. */
      weight?: (item: T) => number;
    } = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxConcurrent = opts.maxConcurrent ?? 2;
    this.weight = opts.weight;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items queued or being flushed. */
  get size(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.maxConcurrent) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /** How many queued items the next batch takes. */
  private take(): number {
    if (!this.weight) return this.maxBatch;
    let sum = 0;
    let n = 0;
    while (n < this.queue.length) {
      sum += this.weight(this.queue[n].item);
      if (n > 0 && sum > this.maxBatch) break;
      n++;
    }
    return n;
  }

  private drain(): void {
    while (this.queue.length > 0 && this.running < this.maxConcurrent) {
      const batch = this.queue.splice(0, this.take());
      this.running++;
      this.flush(batch.map((b) => b.item))
        .then(
          (results) => batch.forEach((b, i) => b.resolve((results ? results[i] : undefined) as R)),
          (e) => batch.forEach((b) => b.reject(e)),
        )
        .finally(() => {
          this.running--;
          if (this.queue.length > 0) this.schedule();
        });
    }
  }
}
