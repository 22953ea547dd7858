import { MAX_PARTS, serializeFrame, StompParser, StompProtocolError } from './stomp-frame';

describe('StompParser', () => {
  it('parses CONNECT as sent by @chatkitty/core 2.106.2 (headers not unescaped)', () => {
    const p = new StompParser(65536);
    const [f] = p.push('CONNECT\nStompX-User:alice\nStompX-Auth-Params:eyJwYXNzd29yZCI6IngifQ==\naccept-version:1.2\nheart-beat:60000,10000\n\n\0');
    expect(f).toEqual({
      command: 'CONNECT',
      headers: { 'StompX-User': 'alice', 'StompX-Auth-Params': 'eyJwYXNzd29yZCI6IngifQ==', 'accept-version': '1.2', 'heart-beat': '60000,10000' },
      body: '',
    });
  });

  it('unescapes headers of other frames, honours content-length in bytes and skips heart-beat EOLs', () => {
    const p = new StompParser(65536);
    const body = '{"body":"héllo\\u0000"}';
    const frames = p.push(`\n\r\nSEND\r\ndestination:/application/channels/1.message\r\nname:a\\cb\\\\c\r\ncontent-length:${Buffer.byteLength(body)}\r\n\r\n${body}\0\n`);
    expect(frames).toHaveLength(1);
    expect(frames[0].headers.name).toBe('a:b\\c');
    expect(frames[0].body).toBe(body);
    expect(p.heartbeats).toBe(3);
  });

  it('refuses a frame trickled over more than MAX_PARTS messages, in time linear in its size', () => {
    const split = new StompParser(65536);
    const text = `SEND\ndestination:/x\n\n${'b'.repeat(60)}\0`;
    const parts = text.match(/.{1,4}/gs)!;
    expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
    expect(parts.flatMap((c) => split.push(c)).map((f) => f.body)).toEqual(['b'.repeat(60)]);

    for (const head of ['SEND\ndestination:/x\n', 'SEND\ndestination:/x\n\n']) {
      const p = new StompParser(65536);
      p.push(head);
      let pushed = 0;
      const t0 = performance.now();
      expect(() => {
        for (; pushed < 65_000; pushed++) p.push(Buffer.from('a'));
      }).toThrow(new StompProtocolError(`frame split over more than ${MAX_PARTS} WebSocket messages`));
      expect(pushed).toBe(MAX_PARTS - 1);
      expect(performance.now() - t0).toBeLessThan(100);
    }
  });

  it('buffers partial frames across pushes and returns several frames from one push', () => {
    const p = new StompParser(65536);
    expect(p.push('SUBSCRIBE\nid:1\ndestination:/topic/a\n')).toEqual([]);
    const frames = p.push('\n\0UNSUBSCRIBE\nid:1\n\n\0');
    expect(frames.map((f) => f.command)).toEqual(['SUBSCRIBE', 'UNSUBSCRIBE']);
  });

  it('keeps the first of repeated headers', () => {
    const [f] = new StompParser(1000).push('SEND\nfoo:1\nfoo:2\n\n\0');
    expect(f.headers.foo).toBe('1');
  });

  it('rejects unknown commands, bad escapes, oversize frames and bad content-length', () => {
    expect(() => new StompParser(1000).push('HELLO\n\n\0')).toThrow(StompProtocolError);
    expect(() => new StompParser(1000).push('SEND\na:\\t\n\n\0')).toThrow(/escape/);
    expect(() => new StompParser(20).push(`SEND\n\n${'x'.repeat(40)}`)).toThrow(/larger/);
    expect(() => new StompParser(20).push(`SEND\n\n${'x'.repeat(40)}\0`)).toThrow(/larger/);
    expect(() => new StompParser(1000).push('SEND\ncontent-length:-1\n\n\0')).toThrow(/content-length/);
    expect(() => new StompParser(1000).push('SEND\ncontent-length:2\n\nabc\0')).toThrow(/NUL/);
  });
});

describe('serializeFrame', () => {
  it('escapes headers and sets content-length in bytes', () => {
    expect(serializeFrame('MESSAGE', { destination: '/topic/a:b', 'receipt-id': undefined }, 'é')).toBe(
      'MESSAGE\ndestination:/topic/a\\cb\ncontent-length:2\n\né\0',
    );
  });
  it('does not escape CONNECTED headers', () => {
    expect(serializeFrame('CONNECTED', { version: '1.2', 'heart-beat': '10000,60000' })).toBe('CONNECTED\nversion:1.2\nheart-beat:10000,60000\n\n\0');
  });
});
