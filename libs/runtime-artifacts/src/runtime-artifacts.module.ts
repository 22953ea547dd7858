import { Module } from '@nestjs/common';
import { ArtifactDirectory } from './artifact-directory';

/** Provides `ArtifactDirectory` (needs the global PlatformModule: DataSource, MessageBus, ChatfnConfig). */
@Module({ providers: [ArtifactDirectory], exports: [ArtifactDirectory] })
export class RuntimeArtifactsModule {}
