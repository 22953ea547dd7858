import { findUnstorable, unstorable } from './storable-text.middleware';
import { toApiException } from './api-error';

describe('unstorable text', () => {
  it('finds NUL characters and unpaired surrogates, and only those', () => {
    expect(unstorable('plain, ünïcödé and 😀')).toBe(false);
    expect(unstorable('a\u0000b')).toBe(true);
    expect(unstorable('\ud800')).toBe(true);
    expect(unstorable('x\udc00')).toBe(true);
    expect(unstorable('\ud83d\ude00')).toBe(false);
  });

  it('names the first bad value by its path, keys included', () => {
    expect(findUnstorable({ a: 'ok', b: [1, 'fine', { c: 'bad\u0000' }] })).toBe('b.2.c');
    expect(findUnstorable({ properties: { 'k\u0000': 1 } })).toBe('properties.k?');
    expect(findUnstorable({ a: 1, b: null, c: true, d: ['x'] })).toBeUndefined();
    expect(findUnstorable('\ud800')).toBe('value');
  });
});

describe('PostgreSQL data exceptions', () => {
  it('are a 400 naming the value PostgreSQL refused, whether from pg or wrapped by TypeORM', () => {
    const pg = Object.assign(new Error('value "2.5e+100" is out of range for type bigint'), { code: '22003', severity: 'ERROR' });
    expect(toApiException(pg)).toEqual(expect.objectContaining({ status: 400, message: 'Invalid value: value "2.5e+100" is out of range for type bigint' }));
    const wrapped = Object.assign(new Error('QueryFailedError'), { driverError: { code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' } });
    expect(toApiException(wrapped)).toEqual(expect.objectContaining({ status: 400, error: 'InvalidRequestError' }));
  });

  it('leave every other database error a 500', () => {
    const uniqueViolation = Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' });
    expect(toApiException(uniqueViolation).status).toBe(500);
    // A code alone (not from the driver) is not taken for a database error.
    expect(toApiException(Object.assign(new Error('x'), { code: '22003' })).status).toBe(500);
  });
});
