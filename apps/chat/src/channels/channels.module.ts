import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ChatCoreModule } from '../shared/chat-core.module';
import { ChannelsController } from './channels.controller';
import { ChannelsService } from './channels.service';
import { mergePatchJson } from './merge-patch.middleware';

/** Channels, members, moderators, participants, invites, keystrokes and custom channel events. */
@Module({
  imports: [ChatCoreModule],
  controllers: [ChannelsController],
  providers: [ChannelsService],
  exports: [ChannelsService],
})
export class ChannelsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(mergePatchJson).forRoutes(ChannelsController);
  }
}
