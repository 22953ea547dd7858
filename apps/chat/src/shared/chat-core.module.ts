import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApplicationEntity } from '../applications/application.entity';
import { ApplicationsService } from '../applications/applications.service';
import { JobEntity } from '../jobs/job.entity';
import { ChatSessionEntity } from '../sessions/chat-session.entity';
import { UserSessionEntity } from '../sessions/user-session.entity';
import { UserSecretEntity } from '../users/user-secret.entity';
import { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { ApiLinks } from './api-links';
import { ChatEventRecorder } from './chat-event.recorder';

export const CHAT_CORE_ENTITIES = [ApplicationEntity, UserEntity, UserSecretEntity, UserSessionEntity, ChatSessionEntity, JobEntity];

/**
 * The chat service's shared kernel, imported by every chat feature module: the core entities' repositories,
 * `UsersService` (users of an application), `ApplicationsService` (credentials, settings), `ChatEventRecorder` (event store + outbox) and `ApiLinks` (HAL URLs).
 */
@Module({
  imports: [TypeOrmModule.forFeature(CHAT_CORE_ENTITIES)],
  providers: [UsersService, ApplicationsService, ChatEventRecorder, ApiLinks],
  exports: [TypeOrmModule, UsersService, ApplicationsService, ChatEventRecorder, ApiLinks],
})
export class ChatCoreModule {}
