import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { MessageBus, Subscription } from '@chatfn/messaging';
import { RuntimeBuildService } from './runtime-build.service';

export const BUILDER_GROUP = 'builder';

/**
 * `registry.runtime.changed.v1` → a recorded build request. The handler only records and queues (a few
 * milliseconds); the build itself runs as a tracked task and reports through `builder.build.status.v1`.
 */
@Injectable()
export class RuntimeChangedConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscription?: Subscription;

  constructor(
    private readonly bus: MessageBus,
    private readonly builds: RuntimeBuildService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      'registry.runtime.changed.v1',
      BUILDER_GROUP,
      async (env) => {
        await this.builds.accept(env.payload, env);
      },
      { fromBeginning: true },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
  }
}
