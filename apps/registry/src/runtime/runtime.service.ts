import { Injectable } from '@nestjs/common';
import { EventStore } from '@chatfn/event-store';
import { encryptEnvValue, loadEnvironment } from '@chatfn/function-directory';
import { InjectSecrets, InstallationSecrets } from '@chatfn/platform';
import { DataSource, EntityManager } from 'typeorm';
import { compileScript } from '../functions/handler-script';
import { RegistryLinks } from '../shared/registry-http';
import { RuntimeCommandHandler } from './runtime-command.handler';
import { RuntimeState } from './runtime.decider';

export interface RuntimeResource {
  type: 'NODEJS';
  id: number;
  dependencies: { default_dependency: boolean; name: string; version: string }[];
  environment_variables: Record<string, string>;
  initialization_script: { script: string };
  version: string;
  /** chatfn extensions */
  revision: number;
  environment_revision: number;
  build?: { id: string; status: string; runtime_revision: number; error?: string };
  _links: Record<string, { href: string }>;
}

/** The semantic version shown for a runtime (`ChatRuntimeResource.version`): one patch per revision. */
export const runtimeVersion = (revision: number) => `1.0.${revision}`;

@Injectable()
export class RuntimeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly handler: RuntimeCommandHandler,
    private readonly links: RegistryLinks,
    @InjectSecrets() private readonly secrets: InstallationSecrets,
  ) {}

  /** Creates the application's runtime (default dependencies, revision 1) the first time it is needed. */
  async ensureRuntime(applicationId: number, manager?: EntityManager): Promise<void> {
    const exists: unknown[] = await (manager ?? this.dataSource).query('SELECT 1 FROM runtimes WHERE application_id = $1', [applicationId]);
    if (exists.length > 0) return;
    const run = async (m: EntityManager) => {
      const rows: { id: string }[] = await m.query(
        `INSERT INTO runtimes (application_id) VALUES ($1) ON CONFLICT (application_id) DO NOTHING RETURNING id`,
        [applicationId],
      );
      if (rows.length === 0) return;
      await this.handler.execute(m, { type: 'CreateRuntime', applicationId, runtimeId: Number(rows[0].id) });
    };
    if (manager) await run(manager);
    else await this.store.transaction(run);
  }

  async get(applicationId: number): Promise<RuntimeResource> {
    await this.ensureRuntime(applicationId);
    const state = await this.handler.load(this.dataSource.manager, applicationId, false);
    return this.render(state);
  }

  async changeDependencies(applicationId: number, dependencies: { name: string; version: string }[]): Promise<RuntimeResource> {
    await this.ensureRuntime(applicationId);
    const state = await this.store.transaction((m) =>
      this.handler.execute(m, { type: 'ChangeDependencies', applicationId, dependencies }),
    );
    return this.render(state);
  }

  async changeInitializationScript(applicationId: number, script: string): Promise<RuntimeResource> {
    // The script must parse; it is stored as written (the runner transpiles it like a handler).
    compileScript(script, { field: 'script', requireHandleEvent: false });
    await this.ensureRuntime(applicationId);
    const state = await this.store.transaction((m) =>
      this.handler.execute(m, { type: 'ChangeInitializationScript', applicationId, initializationScript: script }),
    );
    return this.render(state);
  }

  /** Replaces the environment: values encrypted at rest, names only in the event, nothing on the bus but revisions. */
  async changeEnvironment(applicationId: number, env: Record<string, string>): Promise<RuntimeResource> {
    await this.ensureRuntime(applicationId);
    const state = await this.store.transaction(async (m) => {
      await m.query('SELECT id FROM runtimes WHERE application_id = $1 FOR UPDATE', [applicationId]);
      const current = await loadEnvironment(m, this.secrets.encryptionKey, applicationId);
      const names = Object.keys(env);
      const valuesChanged = names.some((n) => current[n] !== env[n]) || Object.keys(current).some((n) => !(n in env));
      const s = await this.handler.execute(m, { type: 'ChangeEnvironment', applicationId, names, valuesChanged });
      if (valuesChanged) {
        await m.query('DELETE FROM runtime_environment_variables WHERE application_id = $1', [applicationId]);
        for (const n of names) {
          await m.query('INSERT INTO runtime_environment_variables (application_id, name, value_encrypted) VALUES ($1, $2, $3)', [
            applicationId,
            n,
            encryptEnvValue(this.secrets.encryptionKey, applicationId, n, env[n]),
          ]);
        }
      }
      return s;
    });
    return this.render(state);
  }

  /** Records a build status from the builder (no-op for an application without a runtime). */
  async recordBuild(
    applicationId: number,
    build: { buildId: string; runtimeRevision: number; status: 'requested' | 'started' | 'succeeded' | 'failed' | 'skipped'; error?: string },
  ): Promise<void> {
    await this.store.transaction(async (m) => {
      const rows: unknown[] = await m.query('SELECT 1 FROM runtimes WHERE application_id = $1', [applicationId]);
      if (rows.length === 0) return;
      await this.handler.execute(m, { type: 'RecordBuildStatus', applicationId, ...build });
    });
  }

  async runtimeRef(applicationId: number): Promise<{ id: number; version: string }> {
    const rows: { id: string; revision: number }[] = await this.dataSource.query(
      'SELECT id, revision FROM runtimes WHERE application_id = $1',
      [applicationId],
    );
    return rows[0] ? { id: Number(rows[0].id), version: runtimeVersion(rows[0].revision) } : { id: 0, version: runtimeVersion(1) };
  }

  private async render(s: RuntimeState): Promise<RuntimeResource> {
    const env = await loadEnvironment(this.dataSource, this.secrets.encryptionKey, s.applicationId);
    const r: RuntimeResource = {
      type: 'NODEJS',
      id: s.runtimeId,
      dependencies: s.dependencies.map((d) => ({ default_dependency: d.defaultDependency, name: d.name, version: d.version })),
      environment_variables: env,
      initialization_script: { script: s.initializationScript },
      version: runtimeVersion(s.revision),
      revision: s.revision,
      environment_revision: s.environmentRevision,
      _links: this.links.links({
        self: '/runtimes/nodejs',
        functions: '/runtimes/nodejs/functions',
        dependencies: '/runtimes/nodejs/dependencies',
        environment_variables: '/runtimes/nodejs/environment-variables',
        initialization_script: '/runtimes/nodejs/initialization-script',
      }),
    };
    if (s.lastBuild) {
      r.build = { id: s.lastBuild.buildId, status: s.lastBuild.status, runtime_revision: s.lastBuild.runtimeRevision };
      if (s.lastBuild.error) r.build.error = s.lastBuild.error;
    }
    return r;
  }
}
