import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { FilesModule } from '../files/files.module';
import { ChatCoreModule } from '../shared/chat-core.module';
import { MergePatchBodyMiddleware } from '../shared/merge-patch-body.middleware';
import { UserCommandsService } from './user-commands.service';
import { UserQueriesService } from './user-queries.service';
import { UsersController } from './users.controller';

/** The SDK's UsersApi (`UserCommandsService` exported: imports create users through it). */
@Module({
  imports: [ChatCoreModule, FilesModule],
  controllers: [UsersController],
  providers: [UserCommandsService, UserQueriesService],
  exports: [UserCommandsService],
})
export class UsersModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(MergePatchBodyMiddleware).forRoutes(UsersController);
  }
}
