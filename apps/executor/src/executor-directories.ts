import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FunctionDirectory, RuntimeDirectory } from '@chatfn/function-directory';
import { MessageBus } from '@chatfn/messaging';
import { InstallationSecrets, SECRETS } from '@chatfn/platform';

/** The registry's in-memory views, started before the executor consumes anything. */
export const EXECUTOR_DIRECTORY_PROVIDERS: Provider[] = [
  {
    provide: FunctionDirectory,
    inject: [DataSource, MessageBus],
    useFactory: async (ds: DataSource, bus: MessageBus) => {
      const d = new FunctionDirectory(ds, bus);
      await d.start();
      return d;
    },
  },
  {
    provide: RuntimeDirectory,
    inject: [DataSource, MessageBus, SECRETS],
    useFactory: async (ds: DataSource, bus: MessageBus, secrets: InstallationSecrets) => {
      const d = new RuntimeDirectory(ds, bus, secrets.encryptionKey);
      await d.start();
      return d;
    },
  },
];
