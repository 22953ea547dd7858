/**
 * STOMP 1.2 framing (https://stomp.github.io/stomp-specification-1.2.html) for the real-time gateway: a streaming
 * parser tolerant of heart-beat EOLs and `\r\n` line ends, honouring `content-length` (bytes), and a serializer that
 * escapes header values (except in CONNECT/CONNECTED, as the spec says) and always sends `content-length` in bytes.
 */
export interface StompFrame {
  command: string;
  /** First occurrence of each header wins (STOMP 1.2 §"Repeated Header Entries"). */
  headers: Record<string, string>;
  body: string;
}

export class StompProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StompProtocolError';
  }
}

const NUL = 0;
/**
 * An incomplete frame is rescanned on every WebSocket message that extends it; without a bound, a frame trickled in
 * one byte per message costs O(n²) (seconds of CPU for 64 KiB). Clients send a frame per message (stompjs splits
 * only when asked to), so 64 parts is ample.
 */
export const MAX_PARTS = 64;
const LF = 10;
const CR = 13;
const COMMANDS = new Set(['CONNECT', 'STOMP', 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT']);

const unescapeValue = (v: string): string =>
  v.replace(/\\(.)/g, (_m, c: string) => {
    switch (c) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 'c':
        return ':';
      case '\\':
        return '\\';
      default:
        throw new StompProtocolError(`undefined escape sequence \\${c}`);
    }
  });

export const escapeValue = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/:/g, '\\c');

/**
 * Incremental parser of client frames. `push` returns the complete frames found so far; bytes of an incomplete frame
 * stay buffered. Throws `StompProtocolError` on malformed input or a frame larger than `maxFrameBytes`.
 */
export class StompParser {
  private buf: Buffer = Buffer.alloc(0);
  /** WebSocket messages the incomplete frame in `buf` came in (each push rescans it: bounded by MAX_PARTS). */
  private parts = 0;
  /** Set when heart-beat EOLs arrived (the connection is alive even without frames). */
  heartbeats = 0;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer | string): StompFrame[] {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const frames: StompFrame[] = [];
    let completed = false;
    for (;;) {
      // Heart-beats: bare EOLs between frames.
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === LF || this.buf[start] === CR)) {
        if (this.buf[start] === LF) this.heartbeats++;
        start++;
      }
      if (start) this.buf = this.buf.subarray(start);
      if (this.buf.length === 0) break;
      const frame = this.next();
      if (!frame) {
        if (this.buf.length > this.maxFrameBytes) throw new StompProtocolError(`frame larger than ${this.maxFrameBytes} bytes`);
        break;
      }
      frames.push(frame);
      completed = true;
    }
    this.parts = this.buf.length === 0 ? 0 : completed ? 1 : this.parts + 1;
    if (this.parts > MAX_PARTS) throw new StompProtocolError(`frame split over more than ${MAX_PARTS} WebSocket messages`);
    return frames;
  }

  private next(): StompFrame | undefined {
    const buf = this.buf;
    // End of headers: the first empty line.
    let headerEnd = -1;
    let bodyStart = -1;
    for (let i = 0; i < buf.length; i++) {
      if (buf[i] !== LF) continue;
      if (buf[i + 1] === LF) {
        headerEnd = i;
        bodyStart = i + 2;
        break;
      }
      if (buf[i + 1] === CR && buf[i + 2] === LF) {
        headerEnd = i;
        bodyStart = i + 3;
        break;
      }
    }
    if (headerEnd < 0) return undefined;
    const lines = buf.subarray(0, headerEnd).toString('utf8').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    const command = lines[0];
    if (!COMMANDS.has(command)) throw new StompProtocolError(`unknown command ${JSON.stringify(command.slice(0, 32))}`);
    const raw = command === 'CONNECT' || command === 'STOMP';
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new StompProtocolError(`malformed header line ${JSON.stringify(line.slice(0, 64))}`);
      const name = raw ? line.slice(0, colon) : unescapeValue(line.slice(0, colon));
      if (name in headers) continue;
      headers[name] = raw ? line.slice(colon + 1) : unescapeValue(line.slice(colon + 1));
    }
    let bodyEnd: number;
    const declared = headers['content-length'];
    if (declared !== undefined) {
      const n = Number(declared);
      if (!Number.isSafeInteger(n) || n < 0) throw new StompProtocolError('content-length: not a byte count');
      if (n > this.maxFrameBytes) throw new StompProtocolError(`frame larger than ${this.maxFrameBytes} bytes`);
      if (buf.length < bodyStart + n + 1) return undefined;
      bodyEnd = bodyStart + n;
      if (buf[bodyEnd] !== NUL) throw new StompProtocolError('frame body not terminated by NUL after content-length bytes');
    } else {
      bodyEnd = buf.indexOf(NUL, bodyStart);
      if (bodyEnd < 0) return undefined;
    }
    if (bodyEnd + 1 > this.maxFrameBytes) throw new StompProtocolError(`frame larger than ${this.maxFrameBytes} bytes`);
    const body = buf.subarray(bodyStart, bodyEnd).toString('utf8');
    this.buf = buf.subarray(bodyEnd + 1);
    return { command, headers, body };
  }
}

/** A server frame as text (sent as a text WebSocket message). */
export function serializeFrame(command: string, headers: Record<string, string | undefined>, body = ''): string {
  const raw = command === 'CONNECTED';
  let out = `${command}\n`;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k === 'content-length') continue;
    out += raw ? `${k}:${v}\n` : `${escapeValue(k)}:${escapeValue(v)}\n`;
  }
  if (body.length || command === 'MESSAGE' || command === 'ERROR') out += `content-length:${Buffer.byteLength(body, 'utf8')}\n`;
  return `${out}\n${body}\0`;
}

/**
 * A MESSAGE frame prepared once for many subscribers: `head` (`MESSAGE` + escaped `destination`) and `tail`
 * (`content-type`, `content-length`, body, NUL). Each subscriber adds only its `subscription` and `message-id` lines,
 * so a fan-out serializes the event once, not once per socket.
 */
export interface PreparedMessage {
  head: string;
  tail: string;
}

export function prepareMessage(destination: string, body: string, contentType: string): PreparedMessage {
  return {
    head: `MESSAGE\ndestination:${escapeValue(destination)}\n`,
    tail: `content-type:${escapeValue(contentType)}\ncontent-length:${Buffer.byteLength(body, 'utf8')}\n\n${body}\0`,
  };
}
