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
