import { Provider } from '@nestjs/common';
import { ChatfnConfig } from '@chatfn/config';
import { ExecutorDriver } from './executor-driver';
import { ProcessExecutorDriver } from './process-executor.driver';

/** `EXECUTOR_DRIVER=process|docker` chooses how runners start. */
export const EXECUTOR_DRIVER_PROVIDER: Provider = {
  provide: ExecutorDriver,
  inject: [ChatfnConfig],
  useFactory: (config: ChatfnConfig): ExecutorDriver => {
    if (config.env.EXECUTOR_DRIVER === 'docker') {
      const { DockerExecutorDriver } = require('./docker-executor.driver') as typeof import('./docker-executor.driver');
      return new DockerExecutorDriver(config);
    }
    return new ProcessExecutorDriver();
  },
};
