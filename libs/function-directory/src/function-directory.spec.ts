import { FunctionSnapshot } from '@chatfn/contracts';
import { FunctionDirectory } from './function-directory';
import { RuntimeDirectory } from './runtime-directory';
import { decryptEnvValue, encryptEnvValue } from './env-crypto';
import { randomBytes } from 'node:crypto';

const fn = (over: Partial<FunctionSnapshot> = {}): FunctionSnapshot => ({
  id: 1,
  applicationId: 2,
  triggerType: 'user.sent.message',
  enabled: false,
  currentVersionNumber: 0,
  timeoutMs: 1000,
  failurePolicy: 'deny',
  ...over,
});

describe('FunctionDirectory.apply', () => {
  it('applies only newer stream versions and notifies listeners', () => {
    const d = new FunctionDirectory(null as any, null as any);
    const seen: number[] = [];
    d.onChange((c) => seen.push(c.version));
    expect(d.apply({ type: 'function.created', version: 1, function: fn() })).toBe(true);
    expect(d.apply({ type: 'function.enabled', version: 3, function: fn({ enabled: true, currentVersionNumber: 1, handlerScript: 'x' }) })).toBe(true);
    expect(d.apply({ type: 'function.version-deployed', version: 2, function: fn({ currentVersionNumber: 1 }) })).toBe(false);
    expect(seen).toEqual([1, 3]);
    expect(d.get(2, 'user.sent.message')?.enabled).toBe(true);
    expect(d.findRunnable(2, 'user.sent.message')?.handlerScript).toBe('x');
    expect(d.get(3, 'user.sent.message')).toBeUndefined();
    expect(d.versionOf(1)).toBe(3);
  });
});

describe('RuntimeDirectory.apply', () => {
  it('applies only newer revisions', () => {
    const d = new RuntimeDirectory(null as any, null as any, Buffer.alloc(32));
    const rt = (revision: number) => ({
      applicationId: 2, runtimeId: 1, type: 'NODEJS' as const, dependencies: [], initializationScript: `r${revision}`, revision, environmentRevision: 0,
    });
    expect(d.apply({ type: 'runtime.created', runtime: rt(2) })).toBe(true);
    expect(d.apply({ type: 'runtime.created', runtime: rt(1) })).toBe(false);
    expect(d.get(2)?.initializationScript).toBe('r2');
  });
});

describe('env crypto', () => {
  it('round-trips and binds the value to the application and name', () => {
    const key = randomBytes(32);
    const stored = encryptEnvValue(key, 1, 'A', 'secret');
    expect(stored).not.toContain('secret');
    expect(decryptEnvValue(key, 1, 'A', stored)).toBe('secret');
    expect(() => decryptEnvValue(key, 2, 'A', stored)).toThrow();
    expect(() => decryptEnvValue(key, 1, 'B', stored)).toThrow();
    expect(() => decryptEnvValue(randomBytes(32), 1, 'A', stored)).toThrow();
  });
});
