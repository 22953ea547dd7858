import { WebSocket } from 'ws';

export interface ServerFrame {
  command: string;
  headers: Record<string, string>;
  body: string;
}

/** A bare STOMP-over-WebSocket client for protocol-level tests (what a broken or hostile client can send). */
export class RawStompClient {
  readonly frames: ServerFrame[] = [];
  closed = false;
  closeCode?: number;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === '\n') return;
      const end = text.indexOf('\n\n');
      const [command, ...lines] = text.slice(0, end).split('\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':'))] = l.slice(l.indexOf(':') + 1);
      this.frames.push({ command, headers, body: text.slice(end + 2, -1) });
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
  }

  static async open(baseUrl: string, apiKey: string, protocols = ['v12.stomp']): Promise<RawStompClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/rtm/websocket?api-key=${encodeURIComponent(apiKey)}`, protocols);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return new RawStompClient(ws);
  }

  send(text: string): void {
    this.ws.send(text);
  }

  frame(command: string, headers: Record<string, string>, body = ''): void {
    this.ws.send(`${command}\n${Object.entries(headers).map(([k, v]) => `${k}:${v}`).join('\n')}\n\n${body}\0`);
  }

  async connect(username: string, extra: Record<string, string> = {}): Promise<ServerFrame> {
    this.frame('CONNECT', { 'accept-version': '1.2', 'heart-beat': '0,0', 'StompX-User': username, ...extra });
    return this.next((f) => f.command === 'CONNECTED' || f.command === 'ERROR');
  }

  async next(pred: (f: ServerFrame) => boolean, timeoutMs = 10_000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > deadline) throw new Error(`no matching frame; got ${JSON.stringify(this.frames.map((x) => x.command))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.ws.terminate();
  }
}
