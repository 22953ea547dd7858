import { ServiceDefinition } from '@chatfn/platform';
import { BUILDER_MIGRATIONS } from '../builder/src/builder.migrations';
import { BuilderModule } from '../builder/src/builder.module';
import { CHAT_MIGRATIONS } from '../chat/src/chat.migrations';
import { ChatModule } from '../chat/src/chat.module';
import { DashboardModule } from '../dashboard/src/dashboard.module';
import { EXECUTOR_MIGRATIONS } from '../executor/src/executor.migrations';
import { ExecutorModule } from '../executor/src/executor.module';
import { REGISTRY_MIGRATIONS } from '../registry/src/registry.migrations';
import { RegistryModule } from '../registry/src/registry.module';
import { ROUTER_MIGRATIONS } from '../router/src/router.migrations';
import { RouterModule } from '../router/src/router.module';

/** Every service in one process: the embedded default (`npm start`). */
export const CHATFN_ALL_IN_ONE: ServiceDefinition = {
  name: 'chatfn',
  embeddedDatabase: true,
  modules: [ChatModule, RegistryModule, BuilderModule, RouterModule, ExecutorModule, DashboardModule],
  migrations: [...CHAT_MIGRATIONS, ...REGISTRY_MIGRATIONS, ...BUILDER_MIGRATIONS, ...ROUTER_MIGRATIONS, ...EXECUTOR_MIGRATIONS],
  afterStart: async (_app, ctx) => {
    const bus = ctx.config.kafkaBrokers ? `Kafka ${ctx.config.kafkaBrokers.join(',')}` : 'in-process bus';
    const base = ctx.config.publicUrl;
    console.log(
      [
        '',
        `chatfn is up (${bus}, ${ctx.config.env.EXECUTOR_DRIVER} executor driver)`,
        `  Dashboard         ${base}/`,
        `  Platform API      ${base}/v1   (chatkitty SDK basePath)`,
        `  OAuth token       ${base}/oauth/token`,
        `  OpenAPI           ${base}/v1/openapi.json`,
        `  Health            ${base}/health/ready`,
        '',
      ].join('\n'),
    );
  },
};
