import { runMain } from '@chatfn/platform';
import { CHAT_MIGRATIONS } from './src/chat.migrations';
import { ChatModule } from './src/chat.module';

runMain({ name: 'chat', modules: [ChatModule], migrations: CHAT_MIGRATIONS });
