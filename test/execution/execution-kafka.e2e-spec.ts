import { executionSuite } from './execution.suite';

executionSuite('execution (Kafka bus, process driver)', { kafka: true });
