import { runMain } from '@chatfn/platform';
import { ROUTER_MIGRATIONS } from './src/router.migrations';
import { RouterModule } from './src/router.module';

runMain({ name: 'router', modules: [RouterModule], migrations: ROUTER_MIGRATIONS });
