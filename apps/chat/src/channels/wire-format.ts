/**
 * Resources are built once in the camelCase shape chat functions receive as `event` (see `TRIGGERS` in
 * `@chatfn/contracts`), and rendered for HTTP in the `chatkitty@2.106.8` wire shape, which is snake_case except
 * `isGuest` and the HAL keys. User-defined maps (`properties`) are copied untouched.
 */
const KEEP = new Set(['isGuest', '_links', '_embedded']);
const OPAQUE = new Set(['properties', 'authParams']);

export function snakeKey(key: string): string {
  if (KEEP.has(key)) return key;
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function toWire<T = unknown>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => toWire(v)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    out[snakeKey(k)] = OPAQUE.has(k) ? v : toWire(v);
  }
  return out as T;
}
