import { Module } from '@nestjs/common';
import { ChatCoreModule } from '../shared/chat-core.module';
import { OAuthController } from './oauth.controller';

@Module({ imports: [ChatCoreModule], controllers: [OAuthController] })
export class OAuthModule {}
