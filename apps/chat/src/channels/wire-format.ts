/**
 * Resources are built in camelCase (`channels/resources.ts`) and rendered in the `chatkitty@2.106.8` wire shape,
 * which is snake_case except `isGuest` and the HAL keys, both for HTTP and inside recorded chat events (what a
 * chat function receives; see `TRIGGERS` in `@chatfn/contracts`). User-defined maps (`properties`) are copied
 * untouched. `fromWire` is the inverse, for consumers that want camelCase back (e.g. the StompX gateway).
 */
const KEEP = new Set(['isGuest', '_links', '_embedded']);
const OPAQUE = new Set(['properties', 'authParams']);

/** Resource keys are a small fixed set: converted once (user-defined maps are never converted, so never cached). */
const SNAKE = new Map<string, string>();

export function snakeKey(key: string): string {
  let out = SNAKE.get(key);
  if (out === undefined) {
    out = KEEP.has(key) ? key : key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (SNAKE.size < 10_000) SNAKE.set(key, out);
  }
  return out;
}

/**
 * The wire form of a resource (a new object; the argument is not changed). `memo` reuses the result for an object
 * converted before with the same memo: the objects that many events of one batch share (the channel, the sender)
 * are converted once. Only for objects that do not change while the memo is in use.
 */
export function toWire<T = unknown>(value: unknown, memo?: Map<object, unknown>): T {
  if (value === null || typeof value !== 'object' || value instanceof Date) return value as T;
  const known = memo?.get(value);
  if (known !== undefined) return known as T;
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((v) => toWire(v, memo));
  } else {
    const obj = value as Record<string, unknown>;
    const o: Record<string, unknown> = {};
    for (const k in obj) {
      const v = obj[k];
      if (v === undefined) continue;
      o[snakeKey(k)] = OPAQUE.has(k) ? v : toWire(v, memo);
    }
    out = o;
  }
  memo?.set(value, out);
  return out as T;
}

/** `display_picture_url` → `displayPictureUrl`; `isGuest`, `_links`, ... unchanged. */
const CAMEL = new Map<string, string>();

export function camelKey(key: string): string {
  let out = CAMEL.get(key);
  if (out === undefined) {
    out = key.replace(/([a-z0-9])_([a-z0-9])/g, (_m, a: string, b: string) => a + b.toUpperCase());
    if (CAMEL.size < 10_000) CAMEL.set(key, out);
  }
  return out;
}

/** The inverse of `toWire`: snake_case resources (e.g. recorded chat event data) back in camelCase. */
export function fromWire<T = unknown>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => fromWire(v)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value as T;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined) continue;
    out[camelKey(k)] = OPAQUE.has(k) || k === 'auth_params' ? v : fromWire(v);
  }
  return out as T;
}
