import { Envelope } from '@chatfn/contracts';

export interface LogEntry {
  readonly offset: number;
  readonly envelope: Envelope;
}

/** The last `capacity` messages of a topic, so that a group subscribing later can replay them (fromBeginning). */
export class BoundedLog {
  private readonly ring: LogEntry[] = [];
  private end = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`log capacity must be a positive integer`);
  }

  /** Offset of the oldest message still held. */
  get startOffset(): number {
    return Math.max(0, this.end - this.capacity);
  }

  /** Offset the next message will get. */
  get endOffset(): number {
    return this.end;
  }

  append(envelope: Envelope): LogEntry {
    const entry = { offset: this.end, envelope };
    this.ring[this.end % this.capacity] = entry;
    this.end++;
    return entry;
  }

  /** Messages from `offset` (or the oldest one held, if that is later) to the end. */
  *from(offset: number): Generator<LogEntry> {
    for (let o = Math.max(offset, this.startOffset); o < this.end; o++) yield this.ring[o % this.capacity];
  }
}
