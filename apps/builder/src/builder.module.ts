import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChatfnConfig } from '@chatfn/config';
import { EventStore } from '@chatfn/event-store';
import { MessageBus } from '@chatfn/messaging';
import { BuildsController } from './builds/builds.controller';
import { RuntimeChangedConsumer } from './builds/runtime-changed.consumer';
import { BUILDER_OPTIONS, BuilderOptions, RUNNER_BUNDLE, RuntimeBuildService } from './builds/runtime-build.service';
import { ArtifactBuilder } from './drivers/artifact-builder';
import { DockerArtifactBuilder } from './drivers/docker-artifact.builder';
import { ProcessArtifactBuilder } from './drivers/process-artifact.builder';
import { loadRunnerBundle, RunnerBundle } from './runner/runner-bundle';

export const DEFAULT_BUILDER_OPTIONS: BuilderOptions = { gcGraceMs: 10 * 60_000, logFlushMs: 1_000 };

/**
 * The builder service: `registry.runtime.changed.v1` → runtime artifacts (Docker images or process-driver
 * directories, per EXECUTOR_DRIVER), `runtime_builds` + `builder.build.status.v1`, `GET /v1/runtimes/nodejs/builds`.
 */
@Module({
  controllers: [BuildsController],
  providers: [
    {
      provide: ArtifactBuilder,
      inject: [ChatfnConfig],
      useFactory: (config: ChatfnConfig): ArtifactBuilder =>
        config.env.EXECUTOR_DRIVER === 'docker' ? new DockerArtifactBuilder(config) : new ProcessArtifactBuilder(config),
    },
    { provide: RUNNER_BUNDLE, useFactory: () => loadRunnerBundle() },
    { provide: BUILDER_OPTIONS, useValue: DEFAULT_BUILDER_OPTIONS },
    {
      provide: RuntimeBuildService,
      inject: [DataSource, MessageBus, EventStore, ChatfnConfig, ArtifactBuilder, RUNNER_BUNDLE, BUILDER_OPTIONS],
      useFactory: (
        ds: DataSource,
        bus: MessageBus,
        events: EventStore,
        config: ChatfnConfig,
        builder: ArtifactBuilder,
        runner: RunnerBundle,
        options: BuilderOptions,
      ) => new RuntimeBuildService(ds, bus, events, config, builder, runner, options),
    },
    RuntimeChangedConsumer,
  ],
  exports: [RuntimeBuildService],
})
export class BuilderModule {}
