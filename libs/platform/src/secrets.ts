import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatfnConfig } from '@chatfn/config';

export interface InstallationSecrets {
  tokenSecret: string;
  /** 32 bytes for AES-256-GCM. */
  encryptionKey: Buffer;
}

/**
 * Keys from configuration; on a single machine without them, generated once and kept in the data dir
 * (`secrets.json`, mode 0600) so tokens and encrypted values survive restarts.
 */
export function resolveSecrets(config: ChatfnConfig): InstallationSecrets {
  let tokenSecret = config.env.CHATFN_TOKEN_SECRET;
  let keyText = config.env.CHATFN_ENCRYPTION_KEY;
  if (!tokenSecret || !keyText) {
    const file = join(config.dataDir, 'secrets.json');
    let stored: { tokenSecret?: string; encryptionKey?: string } = {};
    if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8'));
    if (!stored.tokenSecret || !stored.encryptionKey) {
      stored = {
        tokenSecret: stored.tokenSecret ?? randomBytes(32).toString('base64url'),
        encryptionKey: stored.encryptionKey ?? randomBytes(32).toString('hex'),
      };
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
    }
    tokenSecret ??= stored.tokenSecret;
    keyText ??= stored.encryptionKey;
  }
  return { tokenSecret: tokenSecret!, encryptionKey: parseKey(keyText!) };
}

function parseKey(text: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  const b = Buffer.from(text, 'base64');
  if (b.length !== 32) throw new Error('CHATFN_ENCRYPTION_KEY must be 32 bytes as 64 hex chars or base64');
  return b;
}
