import { envNameProblem, isSemverRange, npmNameProblem, npmVersionProblem } from './npm-spec';

describe('npm specs', () => {
  it.each(['lodash', '@scope/pkg', 'a-b.c_d~e', 'chatkitty', 'x'])('accepts the name %s', (n) => expect(npmNameProblem(n)).toBeUndefined());
  it.each(['', 'Lodash', '.hidden', '_under', 'a b', 'a/b', '@scope/', 'node_modules', 'x'.repeat(215), 'évian'])(
    'rejects the name %j',
    (n) => expect(npmNameProblem(n)).toBeDefined(),
  );
  it.each(['1.2.3', '^1.2.3', '~1.2', '>=1.0.0 <2', '>= 1.2', '1.x || 2.0.0 - 3.0.0', '*', '', '1.0.0-beta.1', 'v2', '4.17.x'])(
    'accepts the range %j',
    (v) => expect(isSemverRange(v)).toBe(true),
  );
  it.each(['latest', 'next', 'beta'])('accepts the dist-tag %s', (v) => expect(npmVersionProblem(v)).toBeUndefined());
  it.each(['', 'file:../x', 'git+https://x/y.git', 'http://x', 'user/repo', '^^1', '1.2.3.4', '>=', '!1'])('rejects the version %j', (v) =>
    expect(npmVersionProblem(v)).toBeDefined(),
  );
  it('checks environment variable names', () => {
    expect(envNameProblem('API_KEY')).toBeUndefined();
    expect(envNameProblem('_x1')).toBeUndefined();
    expect(envNameProblem('1ABC')).toBeDefined();
    expect(envNameProblem('A-B')).toBeDefined();
    expect(envNameProblem('CHATKITTY_CLIENT_ID')).toMatch(/reserved/);
    expect(envNameProblem('chatfn_x')).toMatch(/reserved/);
  });
});
