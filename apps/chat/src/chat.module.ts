import { Module } from '@nestjs/common';
import { ApplicationsModule } from './applications/applications.module';
import { OAuthModule } from './oauth/oauth.module';
import { ChatCoreModule } from './shared/chat-core.module';

/** The chat service: see the README's architecture section. */
@Module({
  imports: [ChatCoreModule, ApplicationsModule, OAuthModule],
})
export class ChatModule {}
