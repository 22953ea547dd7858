import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export interface AccessTokenClaims {
  /** Application id. */
  sub: string;
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  iss: 'chatfn';
}

/** Verified tokens kept (a token is a few hundred bytes). */
const MAX_VERIFIED = 10_000;

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Signed, expiring access tokens (JWT, HS256) scoped to one application. */
export class TokenService {
  constructor(
    private readonly secret: string,
    readonly ttlSeconds: number,
  ) {}

  issue(applicationId: number, clientId: string, scope = 'create:* read:* update:* delete:*'): { token: string; claims: AccessTokenClaims } {
    const iat = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      sub: String(applicationId),
      client_id: clientId,
      scope,
      iat,
      exp: iat + this.ttlSeconds,
      jti: randomUUID(),
      iss: 'chatfn',
    };
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = b64url(JSON.stringify(claims));
    return { token: `${head}.${body}.${this.sign(`${head}.${body}`)}`, claims };
  }

  /**
   * Tokens whose signature checked out, with their claims: every API request verifies its token, and the HMAC costs
   * more than the rest of the check. Only exact strings that were verified are found here; expiry is checked on
   * every call. Bounded: cleared when full.
   */
  private readonly verified = new Map<string, AccessTokenClaims>();

  /** Returns the claims of a valid, unexpired token, or undefined. */
  verify(token: string): AccessTokenClaims | undefined {
    const known = this.verified.get(token);
    if (known) {
      if (known.exp > Math.floor(Date.now() / 1000)) return known;
      this.verified.delete(token);
      return undefined;
    }
    const claims = this.check(token);
    if (claims) {
      if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
      this.verified.set(token, Object.freeze(claims));
    }
    return claims;
  }

  private check(token: string): AccessTokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as AccessTokenClaims;
      if (claims.iss !== 'chatfn' || typeof claims.exp !== 'number') return undefined;
      if (claims.exp <= Math.floor(Date.now() / 1000)) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }

  private sign(input: string): string {
    return createHmac('sha256', this.secret).update(input).digest('base64url');
  }
}
