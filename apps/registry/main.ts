import { runMain } from '@chatfn/platform';
import { REGISTRY_MIGRATIONS } from './src/registry.migrations';
import { RegistryModule } from './src/registry.module';

runMain({ name: 'registry', modules: [RegistryModule], migrations: REGISTRY_MIGRATIONS });
