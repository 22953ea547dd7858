import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig({});
    expect(c.env.PORT).toBe(8080);
    expect(c.env.EXECUTOR_DRIVER).toBe('process');
    expect(c.kafkaBrokers).toBeUndefined();
    expect(c.publicUrl).toBe('http://127.0.0.1:8080');
  });

  it('parses lists and numbers', () => {
    const c = loadConfig({ PORT: '9000', KAFKA_BROKERS: 'a:9092, b:9092' });
    expect(c.env.PORT).toBe(9000);
    expect(c.kafkaBrokers).toEqual(['a:9092', 'b:9092']);
  });

  it('fails fast naming every bad variable, without echoing secrets', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'abc', EXECUTOR_DRIVER: 'vm', CHATFN_TOKEN_SECRET: 'short' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('PORT');
    expect(msg).toContain('EXECUTOR_DRIVER');
    expect(msg).toContain('CHATFN_TOKEN_SECRET');
    expect(msg).not.toContain('short');
  });

  it('takes a Kafka namespace of letters, digits, "_" and "-" (none by default)', () => {
    expect(loadConfig({}).env.CHATFN_KAFKA_NAMESPACE).toBe('');
    expect(loadConfig({ CHATFN_KAFKA_NAMESPACE: 'prod_eu-1' }).env.CHATFN_KAFKA_NAMESPACE).toBe('prod_eu-1');
    expect(() => loadConfig({ CHATFN_KAFKA_NAMESPACE: 'a.b' })).toThrow(/CHATFN_KAFKA_NAMESPACE/);
  });

  it('takes a heap growth of 0 to 400 percent (100 by default)', () => {
    expect(loadConfig({}).env.CHATFN_HEAP_GROWTH_PERCENT).toBe(100);
    expect(loadConfig({ CHATFN_HEAP_GROWTH_PERCENT: '0' }).env.CHATFN_HEAP_GROWTH_PERCENT).toBe(0);
    expect(() => loadConfig({ CHATFN_HEAP_GROWTH_PERCENT: '500' })).toThrow(/CHATFN_HEAP_GROWTH_PERCENT/);
    expect(() => loadConfig({ CHATFN_HEAP_GROWTH_PERCENT: 'lots' })).toThrow(/CHATFN_HEAP_GROWTH_PERCENT/);
  });

  it('takes an outbox linger of 0 to 1000 ms (0 by default)', () => {
    expect(loadConfig({}).env.CHATFN_OUTBOX_LINGER_MS).toBe(0);
    expect(loadConfig({ CHATFN_OUTBOX_LINGER_MS: '5' }).env.CHATFN_OUTBOX_LINGER_MS).toBe(5);
    expect(() => loadConfig({ CHATFN_OUTBOX_LINGER_MS: '5000' })).toThrow(/CHATFN_OUTBOX_LINGER_MS/);
  });

  it('limits message bodies (20,000 characters, 100 mentions by default) within bounds', () => {
    expect(loadConfig({}).env).toMatchObject({ CHATFN_MAX_MESSAGE_LENGTH: 20_000, CHATFN_MAX_MESSAGE_MENTIONS: 100 });
    expect(loadConfig({ CHATFN_MAX_MESSAGE_LENGTH: '4000', CHATFN_MAX_MESSAGE_MENTIONS: '0' }).env).toMatchObject({
      CHATFN_MAX_MESSAGE_LENGTH: 4000,
      CHATFN_MAX_MESSAGE_MENTIONS: 0,
    });
    expect(() => loadConfig({ CHATFN_MAX_MESSAGE_LENGTH: '0' })).toThrow(/CHATFN_MAX_MESSAGE_LENGTH/);
    expect(() => loadConfig({ CHATFN_MAX_MESSAGE_MENTIONS: 'many' })).toThrow(/CHATFN_MAX_MESSAGE_MENTIONS/);
  });
});
