import { Module } from '@nestjs/common';
import { ChatCoreModule } from '../shared/chat-core.module';
import { SessionsController } from './sessions.controller';

@Module({ imports: [ChatCoreModule], controllers: [SessionsController] })
export class SessionsModule {}
