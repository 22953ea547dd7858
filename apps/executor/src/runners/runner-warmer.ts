import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { FunctionSnapshot, isBlockingTrigger, isTriggerType } from '@chatfn/contracts';
import { FunctionDirectory, RuntimeDirectory } from '@chatfn/function-directory';
import { ArtifactDirectory } from '@chatfn/runtime-artifacts';
import { RunnerPool } from './runner-pool';

/** An enabled, deployed function of a blocking trigger: someone waits for its verdict, so its runner stays warm. */
function isWarmWorthy(f: FunctionSnapshot): boolean {
  return f.enabled && f.currentVersionNumber > 0 && isTriggerType(f.triggerType) && isBlockingTrigger(f.triggerType);
}

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
    // At start-up: the applications that already have an enabled blocking function get their runner now, so their
    // first verdict after a restart is warm too (in the background: start-up does not wait for runners).
    const apps = new Set(this.functions.all().filter(isWarmWorthy).map((f) => f.applicationId));
    for (const applicationId of apps) void this.pool.prewarm(applicationId);
    this.offs.push(
      this.runtimes.onChange(({ runtime }) => this.pool.runtimeChanged(runtime.applicationId)),
      this.artifacts.onChange(({ applicationId }) => this.pool.runtimeChanged(applicationId)),
      this.functions.onChange(({ function: f }) => {
        if (isWarmWorthy(f)) void this.pool.prewarm(f.applicationId);
      }),
    );
  }

  onApplicationShutdown(): void {
    for (const off of this.offs) off();
  }
}
