import { Module } from '@nestjs/common';
import { UserActivityController } from './user-activity.controller';

/** 501 placeholders for chat-B's user-scoped lists; import last in ChatModule. */
@Module({ controllers: [UserActivityController] })
export class UserActivityModule {}
