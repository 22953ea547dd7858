import { Module } from '@nestjs/common';
import { ChatCoreModule } from './shared/chat-core.module';

/** The chat service: see the README's architecture section. */
@Module({
  imports: [ChatCoreModule],
})
export class ChatModule {}
