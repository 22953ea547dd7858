/** Path prefixes that belong to the API and are never answered by the dashboard. */
export const API_PREFIXES = ['/v1', '/oauth', '/admin', '/health', '/rtm'] as const;

/** True when `path` is (under) one of the API prefixes: `/v1`, `/v1/...`, but not `/v1x`. */
export function isApiPath(path: string): boolean {
  return API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`));
}

/** True when a request for `path` should get the SPA's `index.html` (a client-side route, not a file). */
export function isSpaRoute(method: string, path: string, accept: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (isApiPath(path)) return false;
  // A missing asset (`/assets/x.js`) is a 404, not the page.
  if (/\.[a-z0-9]+$/i.test(path)) return false;
  return accept === undefined || accept === '' || accept.includes('text/html') || accept.includes('*/*');
}
