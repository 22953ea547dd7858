/**
 * HAL rendering exactly as the `chatkitty@2.106.8` SDK reads it.
 *
 * Page model (every `PagedModel*`): `{_embedded: {<rel>: [...]}, page: {size, total_elements, total_pages, number},
 * _links: {self, first?, prev?, next?, last?}}`. Cursor model (`CursorPagedModel*`: messages, notifications):
 * `{_embedded: {<rel>: [...]}, page: {size, total, start?, next?}, _links: {self, prev?, next?}}`.
 * Field names are api.ts's (snake_case `total_elements`), not Spring's camelCase.
 *
 * `_embedded` rel names per list (api.ts `*Embedded`): users, channels, messages, notifications, sessions (user and
 * chat sessions), jobs, invites, memberships, receipts, summaries, functions, versions, invocations.
 */

export interface HalLink {
  href: string;
  templated?: boolean;
}
export type HalLinks = Record<string, HalLink>;

export interface PageMetadata {
  size: number;
  total_elements: number;
  total_pages: number;
  number: number;
}

export interface PagedModel<T> {
  _embedded: Record<string, T[]>;
  page: PageMetadata;
  _links: HalLinks;
}

export interface CursorPageMetadata {
  size: number;
  total: number;
  start?: string;
  next?: string;
}

export interface CursorPagedModel<T> {
  _embedded: Record<string, T[]>;
  page: CursorPageMetadata;
  _links: HalLinks;
}

export const link = (href: string): HalLink => ({ href });

/** `{self: {href: base + path}}` for one resource (base like `http://host:8080/v1`). */
export function selfLinks(base: string, path: string, extra: Record<string, string> = {}): HalLinks {
  const links: HalLinks = { self: link(joinUrl(base, path)) };
  for (const [rel, p] of Object.entries(extra)) links[rel] = link(joinUrl(base, p));
  return links;
}

export function joinUrl(base: string, path: string): string {
  if (/^https?:\/\//.test(path)) return path;
  return `${base.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
}

/** Returns `href` with the given query parameters set (undefined removes one). */
export function withQuery(href: string, params: Record<string, string | number | undefined>): string {
  const u = new URL(href);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) u.searchParams.delete(k);
    else u.searchParams.set(k, String(v));
  }
  return u.toString();
}

/**
 * A page of a numbered list. `selfHref` is the absolute request URL (query included); `page`/`size` are the
 * request's paging parameters (0-based page).
 */
export function pagedModel<T>(
  rel: string,
  items: T[],
  paging: { page: number; size: number },
  totalElements: number,
  selfHref: string,
): PagedModel<T> {
  const { page, size } = paging;
  const totalPages = size > 0 ? Math.ceil(totalElements / size) : 0;
  const at = (n: number) => link(withQuery(selfHref, { page: n, size }));
  const links: HalLinks = { self: link(selfHref) };
  if (totalPages > 0) {
    links.first = at(0);
    if (page > 0) links.prev = at(Math.min(page - 1, totalPages - 1));
    if (page + 1 < totalPages) links.next = at(page + 1);
    links.last = at(totalPages - 1);
  }
  return {
    _embedded: { [rel]: items },
    page: { size, total_elements: totalElements, total_pages: totalPages, number: page },
    _links: links,
  };
}

/**
 * A page of a cursor list (messages, notifications). `start` is the cursor the client passed (or the first item's),
 * `next` the cursor of the following page (absent on the last page), `prev` the cursor of the preceding page.
 * Links carry the cursors as the SDK's query params: `next` → `?start=<start>&next=<next>&size=`, `prev` →
 * `?start=<start>&next=<prev>&relation=PREVIOUS&size=`.
 */
export function cursorModel<T>(
  rel: string,
  items: T[],
  cursor: { size: number; total: number; start?: string | number; next?: string | number; prev?: string | number },
  selfHref: string,
): CursorPagedModel<T> {
  const start = cursor.start === undefined ? undefined : String(cursor.start);
  const next = cursor.next === undefined ? undefined : String(cursor.next);
  const links: HalLinks = { self: link(selfHref) };
  if (next !== undefined) {
    links.next = link(withQuery(selfHref, { start, next, size: cursor.size, relation: 'NEXT' }));
  }
  if (cursor.prev !== undefined) {
    links.prev = link(withQuery(selfHref, { start, next: String(cursor.prev), size: cursor.size, relation: 'PREVIOUS' }));
  }
  const page: CursorPageMetadata = { size: cursor.size, total: cursor.total };
  if (start !== undefined) page.start = start;
  if (next !== undefined) page.next = next;
  return { _embedded: { [rel]: items }, page, _links: links };
}
