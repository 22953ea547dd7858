import { Module } from '@nestjs/common';
import { RuntimeArtifactsModule } from '@chatfn/runtime-artifacts';
import { ExecutionRequestResponder } from './blocking/execution-request.responder';
import { EXECUTOR_DRIVER_PROVIDER } from './drivers/executor-driver.provider';
import { EXECUTOR_DIRECTORY_PROVIDERS } from './executor-directories';
import { FunctionInvoker } from './invocations/function-invoker.service';
import { InvocationDedupRepository } from './invocations/invocation-dedup.repository';
import { InvocationRequestConsumer } from './invocations/invocation-request.consumer';
import { RunnerPool } from './runners/runner-pool';
import { RunnerWarmer } from './runners/runner-warmer';
import { RuntimeSpecSource } from './runners/runtime-spec.source';

/**
 * The executor service: runs chat functions on warm runners (process or Docker driver), for invocation requests
 * (non-blocking triggers, with dedup, retries and a dead-letter topic) and blocking request-reply verdicts.
 */
@Module({
  imports: [RuntimeArtifactsModule],
  providers: [
    ...EXECUTOR_DIRECTORY_PROVIDERS,
    EXECUTOR_DRIVER_PROVIDER,
    RuntimeSpecSource,
    RunnerPool,
    RunnerWarmer,
    FunctionInvoker,
    InvocationDedupRepository,
    InvocationRequestConsumer,
    ExecutionRequestResponder,
  ],
  exports: [RunnerPool, FunctionInvoker],
})
export class ExecutorModule {}
