import type { RuntimeDependency } from '@chatfn/contracts';
import { DataSource, EntityManager } from 'typeorm';
import type { ArtifactDriver, LiveArtifact } from './runtime-layout';

export type BuildStatus = 'requested' | 'started' | 'succeeded' | 'failed' | 'skipped';

/** A row of `runtime_builds`, camel-cased. */
export interface RuntimeBuild {
  id: string;
  applicationId: number;
  runtimeId: number;
  runtimeRevision: number;
  environmentRevision: number;
  driver: ArtifactDriver;
  /** The registry change that caused it (`runtime.dependencies-changed`, ...). */
  reason: string;
  status: BuildStatus;
  contentHash: string;
  dependenciesHash: string;
  dependencies: RuntimeDependency[];
  initializationScript: string;
  image: string | null;
  directory: string | null;
  lockfile: string | null;
  /** true when an existing artifact with the same content hash was reused (no build ran). */
  reused: boolean;
  live: boolean;
  error: string | null;
  logs: string;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

interface Row {
  id: string;
  application_id: number;
  runtime_id: number;
  runtime_revision: number;
  environment_revision: number;
  driver: ArtifactDriver;
  reason: string;
  status: BuildStatus;
  content_hash: string;
  dependencies_hash: string;
  dependencies: RuntimeDependency[];
  initialization_script: string;
  image: string | null;
  directory: string | null;
  lockfile: string | null;
  reused: boolean;
  live: boolean;
  error: string | null;
  logs: string;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const toBuild = (r: Row): RuntimeBuild => ({
  id: r.id,
  applicationId: r.application_id,
  runtimeId: r.runtime_id,
  runtimeRevision: r.runtime_revision,
  environmentRevision: r.environment_revision,
  driver: r.driver,
  reason: r.reason,
  status: r.status,
  contentHash: r.content_hash,
  dependenciesHash: r.dependencies_hash,
  dependencies: r.dependencies,
  initializationScript: r.initialization_script,
  image: r.image,
  directory: r.directory,
  lockfile: r.lockfile,
  reused: r.reused,
  live: r.live,
  error: r.error,
  logs: r.logs,
  requestedAt: r.requested_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export const toLiveArtifact = (b: RuntimeBuild): LiveArtifact => ({
  buildId: b.id,
  contentHash: b.contentHash,
  image: b.image ?? undefined,
  directory: b.directory ?? undefined,
  runtimeRevision: b.runtimeRevision,
});

export type NewRuntimeBuild = Pick<
  RuntimeBuild,
  | 'id'
  | 'applicationId'
  | 'runtimeId'
  | 'runtimeRevision'
  | 'environmentRevision'
  | 'driver'
  | 'reason'
  | 'status'
  | 'contentHash'
  | 'dependenciesHash'
  | 'dependencies'
  | 'initializationScript'
> &
  Partial<Pick<RuntimeBuild, 'error' | 'logs'>>;

export type RuntimeBuildUpdate = Partial<
  Pick<RuntimeBuild, 'status' | 'image' | 'directory' | 'lockfile' | 'reused' | 'error' | 'logs' | 'startedAt' | 'finishedAt'>
>;

const COLUMN: Record<keyof RuntimeBuildUpdate, string> = {
  status: 'status',
  image: 'image',
  directory: 'directory',
  lockfile: 'lockfile',
  reused: 'reused',
  error: 'error',
  logs: 'logs',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};

/** SQL access to `runtime_builds` (shared by the builder, which writes, and `ArtifactDirectory`, which reads). */
export class RuntimeBuildRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** Inserts the build unless one exists for that (application, driver, revision); returns the stored row. */
  async insert(b: NewRuntimeBuild, manager?: EntityManager): Promise<{ build: RuntimeBuild; created: boolean }> {
    const rows: Row[] = await this.m(manager).query(
      `INSERT INTO runtime_builds (id, application_id, runtime_id, runtime_revision, environment_revision, driver, reason,
         status, content_hash, dependencies_hash, dependencies, initialization_script, error, logs, finished_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11::jsonb,$12,$13,$14, CASE WHEN $8 IN ('skipped','failed') THEN clock_timestamp() END)
       ON CONFLICT (application_id, driver, runtime_revision) DO NOTHING RETURNING *`,
      [
        b.id,
        b.applicationId,
        b.runtimeId,
        b.runtimeRevision,
        b.environmentRevision,
        b.driver,
        b.reason,
        b.status,
        b.contentHash,
        b.dependenciesHash,
        JSON.stringify(b.dependencies),
        b.initializationScript,
        b.error ?? null,
        b.logs ?? '',
      ],
    );
    if (rows.length) return { build: toBuild(rows[0]), created: true };
    const existing = await this.findByRevision(b.applicationId, b.driver, b.runtimeRevision, manager);
    return { build: existing!, created: false };
  }

  async update(id: string, patch: RuntimeBuildUpdate, manager?: EntityManager): Promise<RuntimeBuild> {
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [k, v] of Object.entries(patch) as [keyof RuntimeBuildUpdate, unknown][]) {
      if (v === undefined) continue;
      values.push(v);
      sets.push(`${COLUMN[k]} = $${values.length}`);
    }
    const rows: [Row[], number] | Row[] = await this.m(manager).query(
      `UPDATE runtime_builds SET ${sets.join(', ') || 'id = id'} WHERE id = $1 RETURNING *`,
      values,
    );
    // TypeORM returns [rows, count] for UPDATE ... RETURNING on postgres.
    const list = (Array.isArray(rows[0]) ? rows[0] : rows) as Row[];
    return toBuild(list[0]);
  }

  async get(id: string, manager?: EntityManager): Promise<RuntimeBuild | undefined> {
    const rows: Row[] = await this.m(manager).query(`SELECT * FROM runtime_builds WHERE id = $1`, [id]);
    return rows[0] ? toBuild(rows[0]) : undefined;
  }

  async findByRevision(
    applicationId: number,
    driver: ArtifactDriver,
    revision: number,
    manager?: EntityManager,
  ): Promise<RuntimeBuild | undefined> {
    const rows: Row[] = await this.m(manager).query(
      `SELECT * FROM runtime_builds WHERE application_id = $1 AND driver = $2 AND runtime_revision = $3`,
      [applicationId, driver, revision],
    );
    return rows[0] ? toBuild(rows[0]) : undefined;
  }

  /** The highest revision requested for an application (any status but skipped). */
  async latestRevision(applicationId: number, driver: ArtifactDriver, manager?: EntityManager): Promise<number> {
    const rows: { max: number | null }[] = await this.m(manager).query(
      `SELECT max(runtime_revision) AS max FROM runtime_builds WHERE application_id = $1 AND driver = $2`,
      [applicationId, driver],
    );
    return rows[0]?.max ?? 0;
  }

  async live(applicationId: number, driver: ArtifactDriver, manager?: EntityManager): Promise<RuntimeBuild | undefined> {
    const rows: Row[] = await this.m(manager).query(
      `SELECT * FROM runtime_builds WHERE application_id = $1 AND driver = $2 AND live`,
      [applicationId, driver],
    );
    return rows[0] ? toBuild(rows[0]) : undefined;
  }

  async allLive(driver?: ArtifactDriver): Promise<RuntimeBuild[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM runtime_builds WHERE live ${driver ? 'AND driver = $1' : ''}`,
      driver ? [driver] : [],
    );
    return rows.map(toBuild);
  }

  /** A build that produced an artifact with this content hash (any application, superseded ones too): reusable. */
  async findArtifact(driver: ArtifactDriver, contentHash: string): Promise<RuntimeBuild | undefined> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM runtime_builds WHERE driver = $1 AND content_hash = $2 AND status IN ('succeeded', 'skipped')
         AND (image IS NOT NULL OR directory IS NOT NULL)
       ORDER BY reused, finished_at DESC LIMIT 1`,
      [driver, contentHash],
    );
    return rows[0] ? toBuild(rows[0]) : undefined;
  }

  /** The lockfile of a succeeded build with this dependency set. */
  async findLockfile(driver: ArtifactDriver, dependenciesHash: string): Promise<string | undefined> {
    const rows: { lockfile: string }[] = await this.dataSource.query(
      `SELECT lockfile FROM runtime_builds WHERE driver = $1 AND dependencies_hash = $2 AND lockfile IS NOT NULL
       ORDER BY finished_at DESC LIMIT 1`,
      [driver, dependenciesHash],
    );
    return rows[0]?.lockfile;
  }

  /** Builds that were accepted but never finished (the builder stopped): resumed at start-up. */
  async unfinished(driver: ArtifactDriver): Promise<RuntimeBuild[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM runtime_builds WHERE driver = $1 AND status IN ('requested', 'started') ORDER BY runtime_revision`,
      [driver],
    );
    return rows.map(toBuild);
  }

  async list(applicationId: number, page: number, size: number): Promise<{ items: RuntimeBuild[]; total: number }> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM runtime_builds WHERE application_id = $1 ORDER BY requested_at DESC, runtime_revision DESC
       LIMIT $2 OFFSET $3`,
      [applicationId, size, page * size],
    );
    const count: { n: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM runtime_builds WHERE application_id = $1`,
      [applicationId],
    );
    return { items: rows.map(toBuild), total: count[0]?.n ?? 0 };
  }

  /** Makes `id` the live build of its application and driver (in the caller's transaction). */
  async promote(build: RuntimeBuild, manager: EntityManager): Promise<void> {
    await manager.query(`UPDATE runtime_builds SET live = false WHERE application_id = $1 AND driver = $2 AND live AND id <> $3`, [
      build.applicationId,
      build.driver,
      build.id,
    ]);
    await manager.query(`UPDATE runtime_builds SET live = true WHERE id = $1`, [build.id]);
  }
}
