import { Module } from '@nestjs/common';
import { AnalyticsModule } from './analytics/analytics.module';
import { ApplicationsModule } from './applications/applications.module';
import { FilesModule } from './files/files.module';
import { GatewayModule } from './gateway/gateway.module';
import { ImportsModule } from './imports/imports.module';
import { JobsModule } from './jobs/jobs.module';
import { OAuthModule } from './oauth/oauth.module';
import { OpenApiModule } from './openapi/openapi.module';
import { SessionsModule } from './sessions/sessions.module';
import { ChatCoreModule } from './shared/chat-core.module';
import { ChannelsModule } from './channels/channels.module';
import { MessagesModule } from './messages/messages.module';
import { UsersModule } from './users/users.module';

/**
 * The chat service: see the README's architecture section.
 * Core (applications, OAuth2, users, sessions, jobs/imports, files, analytics, OpenAPI) and messaging
 * (channels, messages, threads, notifications, user inbox) feature modules.
 */
@Module({
  imports: [
    ChatCoreModule,
    OAuthModule,
    ApplicationsModule,
    UsersModule,
    SessionsModule,
    JobsModule,
    ImportsModule,
    FilesModule,
    AnalyticsModule,
    OpenApiModule,
    ChannelsModule,
    MessagesModule,
    GatewayModule,
  ],
})
export class ChatModule {}
