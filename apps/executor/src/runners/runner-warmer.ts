import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { isBlockingTrigger, isTriggerType } from '@chatfn/contracts';
import { FunctionDirectory, RuntimeDirectory } from '@chatfn/function-directory';
import { ArtifactDirectory } from '@chatfn/runtime-artifacts';
import { RunnerPool } from './runner-pool';

/**
 * Keeps the pool in step with the registry and the builder: a runtime or artifact change replaces the app's runner;
 * enabling or deploying a blocking function starts the app's runner ahead of need (its first verdict is then warm).
 */
@Injectable()
export class RunnerWarmer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly pool: RunnerPool,
    private readonly functions: FunctionDirectory,
    private readonly runtimes: RuntimeDirectory,
    private readonly artifacts: ArtifactDirectory,
  ) {}

  onApplicationBootstrap(): void {
    this.offs.push(
      this.runtimes.onChange(({ runtime }) => this.pool.runtimeChanged(runtime.applicationId)),
      this.artifacts.onChange(({ applicationId }) => this.pool.runtimeChanged(applicationId)),
      this.functions.onChange(({ function: f }) => {
        if (f.enabled && f.currentVersionNumber > 0 && isTriggerType(f.triggerType) && isBlockingTrigger(f.triggerType)) {
          void this.pool.prewarm(f.applicationId);
        }
      }),
    );
  }

  onApplicationShutdown(): void {
    for (const off of this.offs) off();
  }
}
