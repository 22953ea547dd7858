const FIRST_DELAY_MS = 10;
const MAX_DELAY_MS = 1000;

/** Delay before redelivering a message whose handler failed `failures` times in a row: 10 ms doubling, capped at 1 s. */
export function redeliveryDelayMs(failures: number): number {
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, failures - 1));
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
