import { executionSuite } from './execution.suite';

executionSuite('execution (embedded: in-process bus, process driver)', { kafka: false });
