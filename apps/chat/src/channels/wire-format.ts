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
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    out[camelKey(k)] = OPAQUE.has(k) || k === 'auth_params' ? v : fromWire(v);
  }
  return out as T;
}
