import { isApiPath, isSpaRoute } from './spa-path';

describe('dashboard SPA routing', () => {
  it.each(['/v1', '/v1/functions/1', '/oauth/token', '/admin/applications', '/health/ready', '/rtm/websocket'])(
    'never shadows the API path %s',
    (p) => {
      expect(isApiPath(p)).toBe(true);
      expect(isSpaRoute('GET', p, 'text/html')).toBe(false);
    },
  );

  it('treats look-alike prefixes as client routes', () => {
    expect(isApiPath('/v1x')).toBe(false);
    expect(isApiPath('/healthy')).toBe(false);
    expect(isSpaRoute('GET', '/healthy', 'text/html')).toBe(true);
  });

  it('serves index.html for client routes and the root', () => {
    expect(isSpaRoute('GET', '/', 'text/html,application/xhtml+xml')).toBe(true);
    expect(isSpaRoute('GET', '/functions/3', '*/*')).toBe(true);
    expect(isSpaRoute('HEAD', '/runtime', undefined)).toBe(true);
  });

  it('does not answer other methods, missing assets or JSON clients', () => {
    expect(isSpaRoute('POST', '/functions', 'text/html')).toBe(false);
    expect(isSpaRoute('GET', '/assets/missing.js', '*/*')).toBe(false);
    expect(isSpaRoute('GET', '/functions', 'application/json')).toBe(false);
  });
});
