/** Advisory lock keys, two-int form (namespace, purpose). Advisory locks are per database. */
export const ADVISORY_LOCK_NAMESPACE = 0x6368666e; // 'chfn'

export const MIGRATIONS_LOCK = 1;
export const OUTBOX_RELAY_LOCK = 2;
