import { npmErrorSummary } from './npm-install';

describe('npmErrorSummary', () => {
  it("keeps npm's error lines and drops the log-file pointer", () => {
    const out = [
      'npm http fetch GET 404 https://registry.npmjs.org/lodash 12ms',
      'npm error code ETARGET',
      'npm error notarget No matching version found for lodash@999.0.0.',
      'npm error notarget In most cases you or one of your dependencies are requesting',
      'npm error A complete log of this run can be found in: /tmp/x/_logs/2025-debug-0.log',
    ].join('\n');
    const s = npmErrorSummary(out);
    expect(s).toContain('No matching version found for lodash@999.0.0.');
    expect(s).toContain('code ETARGET');
    expect(s).not.toContain('_logs');
  });

  it('falls back to the last output lines', () => {
    expect(npmErrorSummary('something\nbroke badly\n')).toBe('something\nbroke badly');
  });
});

describe('minimalNpmEnv', () => {
  it('hands npm PATH, HOME, the cache and egress settings only — never platform secrets', () => {
     
    const { loadConfig } = require('@chatfn/config') as typeof import('@chatfn/config');
     
    const { minimalNpmEnv } = require('./npm-install') as typeof import('./npm-install');
    const config = loadConfig({
      CHATFN_TOKEN_SECRET: 's'.repeat(40),
      CHATFN_ENCRYPTION_KEY: 'k'.repeat(64),
      DATABASE_URL: 'postgres://u:p@h/db',
      HTTPS_PROXY: 'http://proxy:3128',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt',
    });
    const env = minimalNpmEnv(config, '/tmp/home', '/tmp/cache');
    expect(Object.keys(env).sort()).toEqual(
      ['HOME', 'HTTPS_PROXY', 'NODE_EXTRA_CA_CERTS', 'PATH', 'https_proxy', 'npm_config_cache', 'npm_config_update_notifier'].sort(),
    );
    expect(JSON.stringify(env)).not.toMatch(/sss|kkk|postgres/);
  });
});
