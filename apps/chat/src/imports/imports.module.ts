import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module';
import { JobsModule } from '../jobs/jobs.module';
import { ChatCoreModule } from '../shared/chat-core.module';
import { UsersModule } from '../users/users.module';
import { ChannelImportHandler } from './channel-import.handler';
import { ChannelMembersImportHandler } from './channel-members-import.handler';
import { ImportsController } from './imports.controller';
import { MessageImportHandler } from './message-import.handler';
import { UserImportHandler } from './user-import.handler';

@Module({
  imports: [ChatCoreModule, ChannelsModule, JobsModule, UsersModule],
  controllers: [ImportsController],
  providers: [UserImportHandler, ChannelImportHandler, ChannelMembersImportHandler, MessageImportHandler],
})
export class ImportsModule {}
