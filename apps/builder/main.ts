import { runMain } from '@chatfn/platform';
import { BUILDER_MIGRATIONS } from './src/builder.migrations';
import { BuilderModule } from './src/builder.module';

runMain({ name: 'builder', modules: [BuilderModule], migrations: BUILDER_MIGRATIONS });
