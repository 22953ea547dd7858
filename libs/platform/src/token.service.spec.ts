import { TokenService } from './token.service';

describe('TokenService', () => {
  afterEach(() => jest.restoreAllMocks());

  it('verifies the tokens it issued, and only those', () => {
    const tokens = new TokenService('s'.repeat(32), 60);
    const { token, claims } = tokens.issue(7, 'client');
    expect(tokens.verify(token)).toEqual(claims);
    expect(tokens.verify(token)).toEqual(claims); // again, from the verified tokens
    const [head, body, sig] = token.split('.');
    expect(tokens.verify(`${head}.${body}.${sig.slice(0, -2)}xx`)).toBeUndefined();
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: '8' })).toString('base64url');
    expect(tokens.verify(`${head}.${forged}.${sig}`)).toBeUndefined();
    expect(new TokenService('t'.repeat(32), 60).verify(token)).toBeUndefined();
    expect(tokens.verify('not-a-token')).toBeUndefined();
  });

  it('rejects a token once it has expired, also one verified before', () => {
    const tokens = new TokenService('s'.repeat(32), 60);
    const now = Date.now();
    const { token } = tokens.issue(7, 'client');
    expect(tokens.verify(token)).toBeDefined();
    jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    expect(tokens.verify(token)).toBeUndefined();
    expect(tokens.verify(token)).toBeUndefined();
  });

  it('hands out claims that cannot be changed by a caller', () => {
    const tokens = new TokenService('s'.repeat(32), 60);
    const { token } = tokens.issue(7, 'client');
    const claims = tokens.verify(token)!;
    expect(() => ((claims as { sub: string }).sub = '8')).toThrow(TypeError);
    expect(tokens.verify(token)!.sub).toBe('7');
  });
});
