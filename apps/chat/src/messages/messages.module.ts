import { Inject, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChatfnConfig } from '@chatfn/config';
import { FunctionDirectory } from '@chatfn/function-directory';
import { MessageBus } from '@chatfn/messaging';
import { ChannelsModule } from '../channels/channels.module';
import { FilesModule } from '../files/files.module';
import { NotificationsService } from '../notifications/notifications.service';
import { UserInboxController } from '../notifications/user-inbox.controller';
import { ChatCoreModule } from '../shared/chat-core.module';
import { ThreadsController } from '../threads/threads.controller';
import { MessagesController } from './messages.controller';
import { MessagesService, SEND_MESSAGE_HOOK } from './messages.service';
import { MessageWriter } from './message-writer';
import { SendMessageHook } from './send-message.hook';
import { mergePatchJson } from '../channels/merge-patch.middleware';
import { MiddlewareConsumer, NestModule } from '@nestjs/common';

const SEND_HOOK_DIRECTORY = Symbol('SendHookFunctionDirectory');

/** Keeps this process's view of the registry's functions (for the blocking send hook) started and stopped. */
class DirectoryLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SendMessageHook');
  constructor(@Inject(SEND_HOOK_DIRECTORY) private readonly directory: FunctionDirectory) {}
  async onApplicationBootstrap(): Promise<void> {
    // Without the registry's tables (chat running alone against its own database) the initial load fails; changes
    // still arrive through the bus subscription.
    await this.directory.start().catch((e) => this.logger.warn(`function directory not loaded: ${String(e)}`));
  }
  async onApplicationShutdown(): Promise<void> {
    await this.directory.stop();
  }
}

/** Messages, threads, read receipts, notifications and a user's inbox views. */
@Module({
  imports: [ChatCoreModule, ChannelsModule, FilesModule],
  controllers: [MessagesController, ThreadsController, UserInboxController],
  providers: [
    MessagesService,
    MessageWriter,
    NotificationsService,
    {
      provide: SEND_HOOK_DIRECTORY,
      inject: [DataSource, MessageBus],
      useFactory: (db: DataSource, bus: MessageBus) => new FunctionDirectory(db, bus),
    },
    DirectoryLifecycle,
    {
      provide: SEND_MESSAGE_HOOK,
      inject: [SEND_HOOK_DIRECTORY, MessageBus, ChatfnConfig],
      useFactory: (directory: FunctionDirectory, bus: MessageBus, config: ChatfnConfig) =>
        new SendMessageHook(
          directory,
          { request: (payload, deadlineMs) => bus.request('executor.execution.requested.v1', payload, { deadlineMs }) },
          config.env.CHATFN_BLOCKING_DEADLINE_MS,
        ),
    },
  ],
  exports: [MessagesService, NotificationsService],
})
export class MessagesModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(mergePatchJson).forRoutes(MessagesController);
  }
}
