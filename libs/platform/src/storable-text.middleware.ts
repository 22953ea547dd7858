import type { NextFunction, Request, Response } from 'express';
import { apiErrorBody, ApiException } from './api-error';

/** How deep a JSON body is walked; deeper values are left to the route's own validation and storage. */
const MAX_DEPTH = 32;

/**
 * True for a string PostgreSQL cannot store: one with a NUL character (`text` and `jsonb` refuse `\u0000`) or an
 * unpaired UTF-16 surrogate (not encodable as UTF-8).
 */
export function unstorable(s: string): boolean {
  return s.includes('\u0000') || !(s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** The path (`a.b.0.c`) of the first unstorable string or object key in `value`, or undefined. */
export function findUnstorable(value: unknown): string | undefined {
  const path = unstorablePath(value, 0);
  return path === undefined ? undefined : path.join('.') || 'value';
}

/** The segments to the first unstorable string or key, built on the way out: nothing is allocated for clean input. */
function unstorablePath(value: unknown, depth: number): string[] | undefined {
  if (typeof value === 'string') return unstorable(value) ? [] : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorablePath(value[i], depth + 1);
      if (found !== undefined) return [String(i), ...found];
    }
    return undefined;
  }
  for (const k in value) {
    if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
    if (unstorable(k)) return [k.replace(/[^\x20-\x7e]/g, '?')];
    const found = unstorablePath((value as Record<string, unknown>)[k], depth + 1);
    if (found !== undefined) return [k, ...found];
  }
  return undefined;
}

/**
 * Express middleware (after the body parsers): a request whose path segments, query or JSON/form body carry a
 * string PostgreSQL cannot store gets a 400 ApiError naming where, instead of reaching the database and failing
 * there as a 500.
 */
export function rejectUnstorableText(req: Request, res: Response, next: NextFunction): void {
  const where = unstorableIn(req);
  if (where === undefined) return next();
  const message = `${where}: must not contain NUL characters or unpaired UTF-16 surrogates`;
  res.status(400).json(apiErrorBody(ApiException.badRequest(message, { errors: [{ field: where, message: 'must not contain NUL characters or unpaired UTF-16 surrogates' }] })));
}

function unstorableIn(req: Request): string | undefined {
  // Path segments as the router will decode them (a segment that does not decode is the router's 400 to give).
  if (req.path.includes('%')) {
    for (const segment of req.path.split('/')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        continue;
      }
      if (unstorable(decoded)) return 'path';
    }
  }
  const inQuery = findUnstorable(req.query);
  if (inQuery !== undefined) return `query ${inQuery}`;
  if (req.body !== undefined && typeof req.body === 'object') {
    const inBody = findUnstorable(req.body);
    if (inBody !== undefined) return inBody;
  }
  return undefined;
}
