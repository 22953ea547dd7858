import { Inject, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FunctionDirectory } from '@chatfn/function-directory';
import { MessageBus } from '@chatfn/messaging';
import { ChannelsModule } from '../channels/channels.module';
import { MessagesModule } from '../messages/messages.module';
import { ChatCoreModule } from '../shared/chat-core.module';
import { UsersModule } from '../users/users.module';
import { GatewayServer } from './gateway.server';
import { EphemeralEventsConsumer } from './live/ephemeral-events.consumer';
import { LiveEventsConsumer } from './live/live-events.consumer';
import { GatewaySessionsService } from './sessions/gateway-sessions.service';
import { GATEWAY_FUNCTIONS, SessionAuthService } from './sessions/session-auth.service';
import { ChannelAccess } from './stompx/channel-access';
import { StompXService } from './stompx/stompx.service';
import { TopicHub } from './topic-hub';

/** Keeps the gateway's view of the registry's functions (for `user.attempted.start_session`) current. */
class GatewayFunctionsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Gateway');
  constructor(@Inject(GATEWAY_FUNCTIONS) private readonly directory: FunctionDirectory) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.directory.start().catch((e) => this.logger.warn(`function directory not loaded: ${String(e)}`));
  }
  async onApplicationShutdown(): Promise<void> {
    await this.directory.stop();
  }
}

/**
 * The real-time gateway (STOMP 1.2 / StompX over WebSocket at `/rtm/websocket`) spoken by the unmodified
 * `@chatkitty/core` client: user sessions and presence, chat sessions, channels, messages, read receipts, custom
 * events, typing, live notifications; live delivery across instances through the bus.
 */
@Module({
  imports: [ChatCoreModule, ChannelsModule, MessagesModule, UsersModule],
  providers: [
    TopicHub,
    GatewaySessionsService,
    SessionAuthService,
    ChannelAccess,
    StompXService,
    LiveEventsConsumer,
    EphemeralEventsConsumer,
    GatewayServer,
    {
      provide: GATEWAY_FUNCTIONS,
      inject: [DataSource, MessageBus],
      useFactory: (db: DataSource, bus: MessageBus) => new FunctionDirectory(db, bus),
    },
    GatewayFunctionsLifecycle,
  ],
  exports: [GatewayServer, TopicHub, GatewaySessionsService],
})
export class GatewayModule {}
