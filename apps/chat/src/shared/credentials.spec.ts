import { randomBytes } from 'node:crypto';
import { decryptJson, encryptJson, hashSecret, verifySecret } from './credentials';

describe('credentials', () => {
  it('verifies a scrypt-hashed secret and rejects others', async () => {
    const stored = await hashSecret('s3cret-value');
    expect(stored).toMatch(/^scrypt\$/);
    expect(await verifySecret('s3cret-value', stored)).toBe(true);
    expect(await verifySecret('s3cret-valuE', stored)).toBe(false);
    expect(await verifySecret('x', 'garbage')).toBe(false);
  });

  it('round-trips encrypted JSON and detects tampering', () => {
    const key = randomBytes(32);
    const box = encryptJson(key, { token: 'abc', n: 1 });
    expect(decryptJson(key, box)).toEqual({ token: 'abc', n: 1 });
    const parts = box.split('.');
    parts[3] = Buffer.from('{"token":"evil"}').toString('base64url');
    expect(() => decryptJson(key, parts.join('.'))).toThrow();
  });
});
