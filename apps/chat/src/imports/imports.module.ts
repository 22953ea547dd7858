import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { ChatCoreModule } from '../shared/chat-core.module';
import { UsersModule } from '../users/users.module';
import { ImportsController } from './imports.controller';
import { UserImportHandler } from './user-import.handler';

@Module({
  imports: [ChatCoreModule, JobsModule, UsersModule],
  controllers: [ImportsController],
  providers: [UserImportHandler],
})
export class ImportsModule {}
