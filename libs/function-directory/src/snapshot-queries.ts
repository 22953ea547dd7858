import { FunctionSnapshot, RuntimeDependency, RuntimeSnapshot } from '@chatfn/contracts';
import { EntityManager } from 'typeorm';
import { decryptEnvValue } from './env-crypto';

/** Anything with TypeORM's `query` (a DataSource or a transaction's EntityManager). */
export type Queryable = Pick<EntityManager, 'query'>;

export interface VersionedFunctionSnapshot {
  snapshot: FunctionSnapshot;
  /** Stream version of `function-<id>` the snapshot reflects. */
  version: number;
}

const FUNCTION_SNAPSHOT_SQL = `
  SELECT f.id, f.application_id, f.trigger_type, f.enabled, f.current_version_number, f.current_version_id,
         f.timeout_ms, f.failure_policy, f.stream_version, v.compiled_script
    FROM functions f
    LEFT JOIN function_versions v ON v.id = f.current_version_id`;

function toFunctionSnapshot(r: any): VersionedFunctionSnapshot {
  const snapshot: FunctionSnapshot = {
    id: Number(r.id),
    applicationId: Number(r.application_id),
    triggerType: r.trigger_type,
    enabled: r.enabled,
    currentVersionNumber: r.current_version_number,
    timeoutMs: r.timeout_ms,
    failurePolicy: r.failure_policy,
  };
  if (r.current_version_id !== null && r.current_version_id !== undefined) snapshot.currentVersionId = Number(r.current_version_id);
  if (r.compiled_script !== null && r.compiled_script !== undefined) snapshot.handlerScript = r.compiled_script;
  return { snapshot, version: r.stream_version };
}

/** Every function's snapshot (with its current version's compiled script as `handlerScript`). */
export async function loadFunctionSnapshots(db: Queryable): Promise<VersionedFunctionSnapshot[]> {
  const rows: any[] = await db.query(FUNCTION_SNAPSHOT_SQL);
  return rows.map(toFunctionSnapshot);
}

export async function loadFunctionSnapshot(db: Queryable, functionId: number): Promise<VersionedFunctionSnapshot | undefined> {
  const rows: any[] = await db.query(`${FUNCTION_SNAPSHOT_SQL} WHERE f.id = $1`, [functionId]);
  return rows[0] ? toFunctionSnapshot(rows[0]) : undefined;
}

const RUNTIME_SNAPSHOT_SQL = `
  SELECT id, application_id, dependencies, initialization_script, revision, environment_revision FROM runtimes`;

function toRuntimeSnapshot(r: any): RuntimeSnapshot {
  return {
    applicationId: Number(r.application_id),
    runtimeId: Number(r.id),
    type: 'NODEJS',
    dependencies: (r.dependencies as RuntimeDependency[]).map((d) => ({
      name: d.name,
      version: d.version,
      defaultDependency: d.defaultDependency,
    })),
    initializationScript: r.initialization_script,
    revision: r.revision,
    environmentRevision: r.environment_revision,
  };
}

export async function loadRuntimeSnapshots(db: Queryable): Promise<RuntimeSnapshot[]> {
  const rows: any[] = await db.query(RUNTIME_SNAPSHOT_SQL);
  return rows.map(toRuntimeSnapshot);
}

export async function loadRuntimeSnapshot(db: Queryable, applicationId: number): Promise<RuntimeSnapshot | undefined> {
  const rows: any[] = await db.query(`${RUNTIME_SNAPSHOT_SQL} WHERE application_id = $1`, [applicationId]);
  return rows[0] ? toRuntimeSnapshot(rows[0]) : undefined;
}

/** The application's runtime environment variables, decrypted. */
export async function loadEnvironment(db: Queryable, key: Buffer, applicationId: number): Promise<Record<string, string>> {
  const rows: { name: string; value_encrypted: string }[] = await db.query(
    `SELECT name, value_encrypted FROM runtime_environment_variables WHERE application_id = $1 ORDER BY name`,
    [applicationId],
  );
  const env: Record<string, string> = {};
  for (const r of rows) env[r.name] = decryptEnvValue(key, applicationId, r.name, r.value_encrypted);
  return env;
}
