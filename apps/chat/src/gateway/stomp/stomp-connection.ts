import type { WebSocket } from 'ws';
import { ApiException } from '@chatfn/platform';
import { JSON_CONTENT_TYPE, TopicHub, TopicSubscriber } from '../topic-hub';
import { PreparedMessage, serializeFrame, StompFrame, StompParser, StompProtocolError } from './stomp-frame';

export interface GatewayLimits {
  maxFrameBytes: number;
  /** Frames per second a connection may send (SEND and relay SUBSCRIBE), with a burst of twice that. */
  rate: number;
  maxSubscriptions: number;
  /** Close a connection whose socket buffers more than this (a client that does not read). */
  maxBufferedBytes: number;
  /** Server → client heart-beat interval (ms); the client must send something at least every 3 × its own interval. */
  heartbeatMs: number;
  /** Close a socket that sends no CONNECT within this time. */
  connectTimeoutMs: number;
  /** Frames received but not handled yet; a client that floods past this is closed. */
  maxPendingFrames: number;
}

/** A StompX-level error: `{error, message}` on the error queue (or an ERROR frame for CONNECT). */
export class StompXError extends Error {
  constructor(
    readonly error: string,
    message: string,
    readonly coolOffDuration?: string,
  ) {
    super(message);
    this.name = 'StompXError';
  }
}

/** The authenticated user session a connection serves. */
export interface SessionContext {
  applicationId: number;
  userId: number;
  username: string;
  userSessionId: number;
  /** Opaque id sent in CONNECTED's `session` header; echoed back on reconnect as `StompX-Auth-Session-ID`. */
  resumeToken: string;
}

/** An event the action's result travels on, sent only to the acting connection with `receipt-id`. */
export interface TaggedEvent {
  topic: string;
  type: string;
  resource: unknown;
}

/** What the StompX layer does for a connection; implemented by `StompXService`. */
export interface StompXHandler {
  connect(apiKey: string, headers: Record<string, string>): Promise<SessionContext>;
  relay(ctx: SessionContext, destination: string, params: Record<string, string>): Promise<unknown>;
  action(ctx: SessionContext, destination: string, body: unknown, conn: StompConnection): Promise<TaggedEvent[]>;
  /** Authorises a topic SUBSCRIBE (false: acknowledge but deliver nothing) and runs its side effects. */
  subscribed(ctx: SessionContext, destination: string, conn: StompConnection): Promise<boolean>;
  unsubscribed(ctx: SessionContext, destination: string, conn: StompConnection): Promise<void>;
  disconnected(ctx: SessionContext, conn: StompConnection): Promise<void>;
  /** Errors that are bugs, not client mistakes: logged, answered with a generic error. */
  log(message: string): void;
}

const JSON_TYPE = JSON_CONTENT_TYPE;
const SERVER = 'chatfn/1';
/** `SUBSCRIBE /topic/channels/:id` starts a chat session (a transaction and a chat event): it costs a rate token. */
const CHAT_SESSION_TOPIC = /^\/topic\/channels\/\d+$/;
let connectionCount = 0;

/**
 * One WebSocket speaking STOMP 1.2 / StompX. Frames of a connection are handled strictly in order (the client sends
 * SUBSCRIBEs and SENDs back-to-back and relies on earlier ones being in effect). Relays (`SUBSCRIBE /application/…`)
 * are one-shot replies, topics are registered in the process's `TopicHub`, actions (`SEND /application/…`) are
 * answered with a RECEIPT and receipt-tagged result events, errors go to the error queue correlated by
 * `receipt-id` / `subscription-id`. Bad frames close the connection with an ERROR frame; nothing throws out of here.
 */
export class StompConnection implements TopicSubscriber {
  /** Unique in this process; prefixes the connection's `message-id`s. */
  readonly id = (++connectionCount).toString(36);
  private messageSeq = 0;
  private readonly parser: StompParser;
  private ctx?: SessionContext;
  private state: 'new' | 'connecting' | 'connected' | 'closed' = 'new';
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  /** subscription id → destination (topics and the error queue only). */
  private readonly subs = new Map<string, string>();
  private errorQueue?: { id: string; destination: string };
  private tokens: number;
  private lastRefill = Date.now();
  private readonly openedAt = Date.now();
  private lastReceived = this.openedAt;
  private lastSent = this.openedAt;
  private clientHeartbeatMs = 0;
  private closedResolve!: () => void;
  /** Resolves when the connection is closed and its session ended. */
  readonly closed = new Promise<void>((r) => (this.closedResolve = r));

  constructor(
    private readonly ws: WebSocket,
    private readonly apiKey: string,
    private readonly handler: StompXHandler,
    private readonly hub: TopicHub,
    private readonly limits: GatewayLimits,
  ) {
    this.parser = new StompParser(limits.maxFrameBytes);
    this.tokens = limits.rate * 2;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => this.onData(data));
    ws.on('close', () => this.onClose());
    ws.on('error', () => this.onClose());
  }

  get applicationId(): number | undefined {
    return this.ctx?.applicationId;
  }

  get session(): SessionContext | undefined {
    return this.ctx;
  }

  /** Topic destinations this connection subscribes (for tests and diagnostics). */
  get destinations(): string[] {
    return [...this.subs.values()];
  }

  // ---- input ------------------------------------------------------------------------------------------------------

  private onData(data: Buffer | ArrayBuffer | Buffer[]): void {
    if (this.state === 'closed') return;
    this.lastReceived = Date.now();
    let frames: StompFrame[];
    try {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      frames = this.parser.push(buf);
    } catch (e) {
      this.fail(e instanceof StompProtocolError ? e.message : 'Malformed frame');
      return;
    }
    if (this.pending + frames.length > this.limits.maxPendingFrames) {
      this.fail(`More than ${this.limits.maxPendingFrames} frames waiting: the client sends faster than the gateway handles`);
      return;
    }
    for (const f of frames) {
      this.pending++;
      this.queue = this.queue
        .then(() => this.handle(f))
        .catch((e) => this.internal(e))
        .finally(() => this.pending--);
    }
  }

  private async handle(f: StompFrame): Promise<void> {
    if (this.state === 'closed') return;
    if (f.command === 'CONNECT' || f.command === 'STOMP') return this.onConnect(f);
    if (f.command === 'DISCONNECT') {
      if (f.headers.receipt) this.write('RECEIPT', { 'receipt-id': f.headers.receipt });
      this.close(1000);
      return;
    }
    if (this.state !== 'connected' || !this.ctx) {
      this.fail(`${f.command} before CONNECT`);
      return;
    }
    switch (f.command) {
      case 'SUBSCRIBE':
        return this.onSubscribe(this.ctx, f);
      case 'UNSUBSCRIBE':
        return this.onUnsubscribe(this.ctx, f);
      case 'SEND':
        return this.onSend(this.ctx, f);
      case 'ACK':
      case 'NACK':
        return;
      default:
        // BEGIN / COMMIT / ABORT: no transactions in StompX.
        if (f.headers.receipt) this.write('RECEIPT', { 'receipt-id': f.headers.receipt });
    }
  }

  private async onConnect(f: StompFrame): Promise<void> {
    if (this.state !== 'new') {
      this.fail('Already connected');
      return;
    }
    this.state = 'connecting';
    const accepts = (f.headers['accept-version'] ?? '1.2').split(',').map((v) => v.trim());
    if (!accepts.includes('1.2')) {
      this.deny('AccessDeniedError', 'Only STOMP 1.2 is supported');
      return;
    }
    try {
      this.ctx = await this.handler.connect(this.apiKey, f.headers);
    } catch (e) {
      const err = e instanceof StompXError ? e : undefined;
      if (!err) this.handler.log(`CONNECT failed: ${String((e as Error)?.stack ?? e)}`);
      this.deny('AccessDeniedError', err?.message ?? 'The session could not be started');
      return;
    }
    if ((this.state as string) === 'closed') {
      // The socket went away while the session was being authorised.
      await this.handler.disconnected(this.ctx, this).catch((e) => this.internal(e));
      return;
    }
    this.state = 'connected';
    const [cx] = (f.headers['heart-beat'] ?? '0,0').split(',').map((n) => Number(n) || 0);
    this.clientHeartbeatMs = cx > 0 ? Math.max(cx, 60_000) : 0;
    this.write('CONNECTED', {
      version: '1.2',
      'heart-beat': `${this.limits.heartbeatMs},${this.clientHeartbeatMs ? 60_000 : 0}`,
      session: this.ctx.resumeToken,
      server: SERVER,
      'user-name': this.ctx.username,
    });
  }

  private async onSubscribe(ctx: SessionContext, f: StompFrame): Promise<void> {
    const id = f.headers.id;
    const destination = f.headers.destination ?? '';
    if (!id) {
      this.fail('SUBSCRIBE without id');
      return;
    }
    if (destination.startsWith('/application/')) {
      if (!this.take()) {
        this.error({ 'subscription-id': id }, new StompXError('RateLimitedError', 'Too many requests', 'PT1S'));
        return;
      }
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(f.headers)) {
        if (k !== 'id' && k !== 'destination' && k !== 'receipt' && k !== 'ack' && v !== 'undefined') params[k] = v;
      }
      try {
        const resource = await this.handler.relay(ctx, destination, params);
        this.write('MESSAGE', { destination, subscription: id, 'message-id': this.messageId(), 'content-type': JSON_TYPE }, JSON.stringify({ resource }));
      } catch (e) {
        this.error({ 'subscription-id': id }, this.asError(e));
      }
      return;
    }
    if (destination === '/user/queue/errors' || destination === '/user/queue/v1/errors') {
      this.errorQueue = { id, destination };
      if (f.headers.receipt) this.write('RECEIPT', { 'receipt-id': f.headers.receipt });
      return;
    }
    if (!this.subs.has(id)) {
      if (this.subs.size >= this.limits.maxSubscriptions) {
        this.fail(`More than ${this.limits.maxSubscriptions} subscriptions`);
        return;
      }
      if (CHAT_SESSION_TOPIC.test(destination) && !this.take()) {
        this.error({ 'subscription-id': id }, new StompXError('RateLimitedError', 'Too many chat sessions started', 'PT1S'));
        return;
      }
      let allowed = false;
      try {
        allowed = await this.handler.subscribed(ctx, destination, this);
      } catch (e) {
        this.internal(e);
      }
      // Unknown or unauthorised topics are acknowledged and stay silent (the client expects a RECEIPT, never ERROR).
      this.subs.set(id, destination);
      if (allowed) this.hub.add(destination, this, id);
    }
    if (f.headers.receipt) this.write('RECEIPT', { 'receipt-id': f.headers.receipt });
  }

  private async onUnsubscribe(ctx: SessionContext, f: StompFrame): Promise<void> {
    const id = f.headers.id ?? '';
    const destination = this.subs.get(id);
    if (destination !== undefined) {
      this.subs.delete(id);
      this.hub.remove(destination, this, id);
      if (!this.hub.subscriptionsOf(destination, this).length) await this.handler.unsubscribed(ctx, destination, this);
    } else if (this.errorQueue?.id === id) {
      this.errorQueue = undefined;
    }
    if (f.headers.receipt) this.write('RECEIPT', { 'receipt-id': f.headers.receipt });
  }

  private async onSend(ctx: SessionContext, f: StompFrame): Promise<void> {
    const receipt = f.headers.receipt;
    const destination = f.headers.destination ?? '';
    const correlate: Record<string, string> = receipt ? { 'receipt-id': receipt } : {};
    if (!this.take()) {
      this.error(correlate, new StompXError('RateLimitedError', 'Too many requests', 'PT1S'));
      return;
    }
    let body: unknown = {};
    if (f.body.trim()) {
      try {
        body = JSON.parse(f.body);
      } catch {
        this.error(correlate, new StompXError('InvalidRequestError', 'The frame body is not JSON'));
        return;
      }
    }
    let events: TaggedEvent[];
    try {
      events = await this.handler.action(ctx, destination, body, this);
    } catch (e) {
      this.error(correlate, this.asError(e));
      return;
    }
    if (!receipt) return;
    this.write('RECEIPT', { 'receipt-id': receipt });
    for (const ev of events) {
      for (const sid of this.hub.subscriptionsOf(ev.topic, this)) {
        this.deliver(sid, ev.topic, JSON.stringify({ type: ev.type, version: 'v1', resource: ev.resource }), receipt);
      }
    }
  }

  // ---- output -----------------------------------------------------------------------------------------------------

  deliver(subscriptionId: string, destination: string, body: string, receiptId?: string): void {
    this.write('MESSAGE', {
      destination,
      subscription: subscriptionId,
      'message-id': this.messageId(),
      'content-type': JSON_TYPE,
      'receipt-id': receiptId,
    }, body);
  }

  /** A fan-out's shared frame plus this subscription's two header lines: O(1) work per subscriber. */
  deliverPrepared(message: PreparedMessage, subscriptionLine: string): void {
    if (!this.writable()) return;
    this.lastSent = Date.now();
    this.ws.send(`${message.head}${subscriptionLine}message-id:${this.messageId()}\n${message.tail}`);
  }

  private messageId(): string {
    return `${this.id}-${(++this.messageSeq).toString(36)}`;
  }

  /** An error on the client's error queue, correlated to the failed relay or action. */
  private error(correlation: Record<string, string>, e: StompXError): void {
    if (!this.errorQueue) return;
    const body: Record<string, unknown> = { error: e.error, message: e.message, timestamp: new Date().toISOString() };
    if (e.coolOffDuration) body.coolOffDuration = e.coolOffDuration;
    this.write('MESSAGE', {
      destination: this.errorQueue.destination,
      subscription: this.errorQueue.id,
      'message-id': this.messageId(),
      'content-type': JSON_TYPE,
      ...correlation,
    }, JSON.stringify(body));
  }

  private write(command: string, headers: Record<string, string | undefined>, body = ''): void {
    if (!this.writable()) return;
    this.lastSent = Date.now();
    this.ws.send(serializeFrame(command, headers, body));
  }

  /** Open, and not buffering more than the limit (a client that does not read is closed). */
  private writable(): boolean {
    if (this.state === 'closed' || this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      // A close frame would queue behind what the client does not read (and keep it in memory for the close
      // handshake's 30 s): drop the socket at once.
      this.ws.terminate();
      this.onClose();
      return false;
    }
    return true;
  }

  // ---- lifecycle --------------------------------------------------------------------------------------------------

  /**
   * Called about every second by the gateway's one sweep timer (no timer per connection): the CONNECT deadline,
   * server heart-beats and the client's heart-beat deadline.
   */
  tick(now: number): void {
    if (this.state === 'new') {
      if (now - this.openedAt > this.limits.connectTimeoutMs) this.fail('No CONNECT frame received in time');
      return;
    }
    if (this.state !== 'connected') return;
    if (now - this.lastSent >= this.limits.heartbeatMs && this.ws.readyState === this.ws.OPEN) {
      this.lastSent = now;
      this.ws.send('\n');
    }
    if (this.clientHeartbeatMs && now - this.lastReceived > this.clientHeartbeatMs * 3) this.close(1001, 'Heart-beat timeout');
  }

  /** Refuses the session with an `AccessDeniedError` ERROR frame (the only error the client does not retry). */
  private deny(error: string, message: string): void {
    this.state = 'connecting';
    this.writeError(error, message, 'Access denied');
    this.close(1000);
  }

  /** The session may not go on (its user was deleted): an `AccessDeniedError` ERROR frame, then close. */
  revoke(message: string): void {
    if (this.state === 'closed') return;
    this.writeError('AccessDeniedError', message, 'Access denied');
    this.close(1000); // a connected session ends as on any disconnect
  }

  /** A protocol violation: ERROR frame, then close. */
  private fail(message: string): void {
    this.writeError('InvalidFrameError', message, message.slice(0, 200));
    this.close(1002, 'Protocol error');
  }

  /** An ERROR frame: `summary` in its `message` header, the ApiError-like JSON body. */
  private writeError(error: string, message: string, summary: string): void {
    const body = JSON.stringify({ error, message, timestamp: new Date().toISOString() });
    this.writeRaw(serializeFrame('ERROR', { message: summary, 'content-type': JSON_TYPE }, body));
  }

  private writeRaw(text: string): void {
    if (this.state !== 'closed' && this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  close(code = 1000, reason?: string): void {
    if (this.state !== 'closed') {
      try {
        this.ws.close(code, reason);
      } catch {
        this.ws.terminate();
      }
    }
    this.onClose();
  }

  /**
   * The user lost access to what these topics carry (removed from a private channel, channel deleted): the
   * subscriptions stop delivering, and their end runs as an UNSUBSCRIBE would (a `self` topic ends the chat session).
   */
  dropTopics(destinations: ReadonlySet<string>): void {
    const ctx = this.ctx;
    if (this.state !== 'connected' || !ctx) return;
    const dropped = new Set<string>();
    for (const [id, destination] of this.subs) {
      if (!destinations.has(destination)) continue;
      this.subs.delete(id);
      this.hub.remove(destination, this, id);
      dropped.add(destination);
    }
    for (const destination of dropped) {
      this.queue = this.queue.then(() => this.handler.unsubscribed(ctx, destination, this)).catch((e) => this.internal(e));
    }
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    for (const [id, destination] of this.subs) this.hub.remove(destination, this, id);
    this.subs.clear();
    const ctx = this.ctx;
    // Ends the session after every queued frame was handled.
    this.queue = this.queue
      .then(async () => {
        if (ctx && wasConnected) await this.handler.disconnected(ctx, this);
      })
      .catch((e) => this.internal(e))
      .finally(() => this.closedResolve());
  }

  private take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.limits.rate * 2, this.tokens + ((now - this.lastRefill) / 1000) * this.limits.rate);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private asError(e: unknown): StompXError {
    if (e instanceof StompXError) return e;
    if (e instanceof ApiException && e.status < 500) return new StompXError(e.error, e.message);
    this.internal(e);
    return new StompXError('InternalError', 'The request could not be completed');
  }

  private internal(e: unknown): void {
    this.handler.log(`connection ${this.id}: ${String((e as Error)?.stack ?? e)}`);
  }
}
