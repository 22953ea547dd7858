import { runMain } from '@chatfn/platform';
import { EXECUTOR_MIGRATIONS } from './src/executor.migrations';
import { ExecutorModule } from './src/executor.module';

runMain({ name: 'executor', modules: [ExecutorModule], migrations: EXECUTOR_MIGRATIONS });
