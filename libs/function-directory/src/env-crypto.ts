import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for runtime environment variable values at rest. Stored form: `v1.<iv>.<tag>.<ciphertext>` (base64url).
 * The application id and variable name are the additional authenticated data, so a value copied to another
 * application's row or another name does not decrypt.
 */
export function encryptEnvValue(key: Buffer, applicationId: number, name: string, value: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${applicationId}:${name}`));
  const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

export function decryptEnvValue(key: Buffer, applicationId: number, name: string, stored: string): string {
  const [v, iv, tag, ct] = stored.split('.');
  if (v !== 'v1' || iv === undefined || tag === undefined || ct === undefined) {
    throw new Error(`environment variable ${name}: unknown encryption format`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(`${applicationId}:${name}`));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}
