import { CreateEventsTable1735689600000 } from './create-events-table.migration';
import { CreateOutboxTable1735689600001 } from './create-outbox-table.migration';

export { CreateEventsTable1735689600000, CreateOutboxTable1735689600001 };

/** Add these to each service's DataSource `migrations` beside its own; the early timestamps sort them first. */
export const EVENT_STORE_MIGRATIONS = [CreateEventsTable1735689600000, CreateOutboxTable1735689600001];
