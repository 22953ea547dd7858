export enum EventStoreErrorCode {
  /** The stream is not at the expected version, or a concurrent writer appended first. */
  CONCURRENCY_CONFLICT = 'CONCURRENCY_CONFLICT',
  /** The caller passed something the store cannot accept (bad stream id, version or event). */
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
  /** The outbox relay was asked for something it cannot do in its current state (e.g. flush while stopped). */
  RELAY_NOT_RUNNING = 'RELAY_NOT_RUNNING',
}

export interface EventStoreConflictDetails {
  streamId: string;
  expectedVersion: number | 'no-stream' | 'any';
  /** The stream's version as seen by the failed append, when known (unknown after a unique violation). */
  actualVersion?: number;
}

export class EventStoreError extends Error {
  constructor(
    readonly code: EventStoreErrorCode,
    message: string,
    readonly details?: EventStoreConflictDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EventStoreError';
  }

  static conflict(details: EventStoreConflictDetails, cause?: unknown): EventStoreError {
    const actual = details.actualVersion === undefined ? 'a concurrent append' : `version ${details.actualVersion}`;
    return new EventStoreError(
      EventStoreErrorCode.CONCURRENCY_CONFLICT,
      `stream ${details.streamId}: expected version ${String(details.expectedVersion)}, found ${actual}`,
      details,
      { cause },
    );
  }
}

export function isEventStoreError(err: unknown, code?: EventStoreErrorCode): err is EventStoreError {
  return err instanceof EventStoreError && (code === undefined || err.code === code);
}
