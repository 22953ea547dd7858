import { Envelope } from '@chatfn/contracts';

/** `'no-stream'`: the stream must not exist yet (same as 0); `'any'`: append at whatever version it has. */
export type ExpectedVersion = number | 'no-stream' | 'any';

export interface NewEvent {
  type: string;
  data: object;
  metadata?: object;
}

export interface StoredEvent<D = Record<string, unknown>, M = Record<string, unknown>> {
  streamId: string;
  /** 1 for a stream's first event, then +1 per event. */
  version: number;
  type: string;
  data: D;
  metadata: M;
  recordedAt: Date;
  /** Unique across all streams; `readAll`'s checkpoint. */
  position: number;
}

export interface AppendOptions {
  /** Envelopes to write to the outbox with the events (same statement), only if the append succeeds. */
  enqueue?: Envelope[];
}

export interface AppendResult {
  /** Version of the first appended event (current version + 1 when nothing was appended). */
  fromVersion: number;
  /** Version of the last appended event: the stream's version after the append. */
  toVersion: number;
}
