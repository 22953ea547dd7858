import { contentHash, dependenciesHash, normalizeDependencies, packageJsonFor } from './content-hash';

const id = { base: 'sha256:abc', nodeMajor: 20 };
const lodash = { name: 'lodash', version: '4.17.21', defaultDependency: false };

describe('content hash', () => {
  it('always includes the default chatkitty SDK and sorts by name', () => {
    expect(normalizeDependencies([lodash]).map((d) => `${d.name}@${d.version}`)).toEqual(['chatkitty@2.106.8', 'lodash@4.17.21']);
    expect(JSON.parse(packageJsonFor([lodash])).dependencies).toEqual({ chatkitty: '2.106.8', lodash: '4.17.21' });
  });

  it('does not depend on the order of the dependency list', () => {
    const a = [lodash, { name: 'ms', version: '2.1.3', defaultDependency: false }];
    expect(dependenciesHash(id, a)).toBe(dependenciesHash(id, [...a].reverse()));
    expect(contentHash(id, a, 's', 'r')).toBe(contentHash(id, [...a].reverse(), 's', 'r'));
  });

  it('changes the dependency hash only with dependencies, base or Node major', () => {
    const h = dependenciesHash(id, [lodash]);
    expect(dependenciesHash({ ...id, base: 'sha256:def' }, [lodash])).not.toBe(h);
    expect(dependenciesHash({ ...id, nodeMajor: 22 }, [lodash])).not.toBe(h);
    expect(dependenciesHash(id, [{ ...lodash, version: '4.17.20' }])).not.toBe(h);
  });

  it('changes the content hash with the init script and the runner but keeps the dependency hash', () => {
    const h = contentHash(id, [lodash], 'a', 'r1');
    expect(contentHash(id, [lodash], 'b', 'r1')).not.toBe(h);
    expect(contentHash(id, [lodash], 'a', 'r2')).not.toBe(h);
    expect(contentHash(id, [lodash], 'a', 'r1')).toBe(h);
  });
});
