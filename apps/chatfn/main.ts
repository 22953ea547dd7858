import { runMain } from '@chatfn/platform';
import { CHATFN_ALL_IN_ONE } from './chatfn.service';

runMain(CHATFN_ALL_IN_ONE);
