import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ChatfnConfig } from '@chatfn/config';
import { GatewayLimits, StompConnection } from './stomp/stomp-connection';
import { StompXService } from './stompx/stompx.service';
import { TopicHub } from './topic-hub';

export const RTM_PATH = '/rtm/websocket';
const SUBPROTOCOL = 'v12.stomp';
const SWEEP_MS = 1_000;

/**
 * The real-time endpoint: a `ws` server in `noServer` mode on Nest's own HTTP server (same port), answering upgrades
 * of `/rtm/websocket?api-key=…` with the `v12.stomp` subprotocol. A bad API key is still upgraded and then refused
 * with an `AccessDeniedError` ERROR frame (the client's only non-retried failure). Over `CHATFN_GATEWAY_MAX_CONNECTIONS`
 * the upgrade is answered 503.
 */
@Injectable()
export class GatewayServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Gateway');
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<StompConnection>();
  private server?: Server;
  private sweep?: NodeJS.Timeout;
  private readonly limits: GatewayLimits;
  private readonly maxConnections: number;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly stompx: StompXService,
    private readonly hub: TopicHub,
    config: ChatfnConfig,
  ) {
    const env = config.env;
    this.maxConnections = env.CHATFN_GATEWAY_MAX_CONNECTIONS;
    this.limits = {
      maxFrameBytes: env.CHATFN_GATEWAY_MAX_FRAME_BYTES,
      rate: env.CHATFN_GATEWAY_RATE,
      maxSubscriptions: 1_000,
      maxBufferedBytes: 8 * 1024 * 1024,
      heartbeatMs: env.CHATFN_GATEWAY_HEARTBEAT_MS,
      connectTimeoutMs: 30_000,
      maxPendingFrames: 500,
    };
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      // One WebSocket message larger than this closes the socket (1009) before it is buffered; frames are checked by
      // the STOMP parser against CHATFN_GATEWAY_MAX_FRAME_BYTES (answered with an ERROR frame).
      maxPayload: Math.max(env.CHATFN_GATEWAY_MAX_FRAME_BYTES * 4, 64 * 1024),
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : ([...protocols][0] ?? false)),
    });
    this.wss.setMaxListeners(0);
  }

  /** Live connections of this process. */
  get size(): number {
    return this.connections.size;
  }

  get all(): ReadonlySet<StompConnection> {
    return this.connections;
  }

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!this.server) {
      this.logger.warn('no HTTP server: the real-time gateway is off');
      return;
    }
    this.server.on('upgrade', this.onUpgrade);
    // One timer for all connections (CONNECT deadline, heart-beats both ways) instead of one per connection.
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const c of this.connections) c.tick(now);
    }, SWEEP_MS);
    this.sweep.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.server?.off('upgrade', this.onUpgrade);
    clearInterval(this.sweep);
    const closing = [...this.connections].map((c) => {
      c.close(1001, 'Server shutting down');
      return c.closed;
    });
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 5_000).unref())]);
    await new Promise<void>((r) => this.wss.close(() => r()));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== RTM_PATH && url.pathname !== `${RTM_PATH}/`) {
      // Another upgrade handler may own this path; otherwise nobody answers and the client times out, so refuse.
      if (this.server && this.server.listenerCount('upgrade') <= 1) refuse(socket, 404, 'Not Found');
      return;
    }
    if (this.connections.size >= this.maxConnections) {
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    const apiKey = url.searchParams.get('api-key') ?? '';
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new StompConnection(ws, apiKey, this.stompx, this.hub, this.limits);
      this.connections.add(conn);
      void conn.closed.then(() => this.connections.delete(conn));
    });
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
