/** Polls `probe` until it returns a truthy value (returned) or the timeout passes (throws with the last error). */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Asserts eventually: re-runs `assertion` until it stops throwing. */
export async function expectEventually(assertion: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => {
      await assertion();
      return true;
    },
    { timeoutMs, what: 'assertion' },
  );
}
