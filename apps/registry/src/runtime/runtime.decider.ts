import { RuntimeDependency } from '@chatfn/contracts';
import { RegistryError, RegistryErrorCode } from '../shared/registry.error';

/**
 * The lifecycle of an application's NodeJS chat runtime (stream `runtime-<applicationId>`), as pure functions.
 * Environment variable values are secrets: events carry only the names.
 */
export const DEFAULT_DEPENDENCIES: readonly RuntimeDependency[] = Object.freeze([
  { name: 'chatkitty', version: '2.106.8', defaultDependency: true },
]);

export type BuildStatus = 'requested' | 'succeeded' | 'failed';

export interface RuntimeBuild {
  buildId: string;
  status: BuildStatus;
  runtimeRevision: number;
  error?: string;
}

export interface RuntimeState {
  exists: boolean;
  applicationId: number;
  runtimeId: number;
  dependencies: RuntimeDependency[];
  initializationScript: string;
  environmentNames: string[];
  revision: number;
  environmentRevision: number;
  lastBuild?: RuntimeBuild;
  version: number;
}

export const initialRuntimeState = (applicationId = 0): RuntimeState => ({
  exists: false,
  applicationId,
  runtimeId: 0,
  dependencies: [],
  initializationScript: '',
  environmentNames: [],
  revision: 0,
  environmentRevision: 0,
  version: 0,
});

export type RuntimeEvent =
  | { type: 'runtime.created'; data: { runtimeId: number; applicationId: number; dependencies: RuntimeDependency[] } }
  | { type: 'runtime.dependencies-changed'; data: { dependencies: RuntimeDependency[] } }
  | { type: 'runtime.environment-changed'; data: { names: string[] } }
  | { type: 'runtime.init-script-changed'; data: { initializationScript: string } }
  | { type: 'runtime.build-requested'; data: { buildId: string; runtimeRevision: number } }
  | { type: 'runtime.build-succeeded'; data: { buildId: string; runtimeRevision: number } }
  | { type: 'runtime.build-failed'; data: { buildId: string; runtimeRevision: number; error: string } };

export type RuntimeCommand =
  | { type: 'CreateRuntime'; applicationId: number; runtimeId: number }
  /** `dependencies` are the user's; the default dependencies are kept whatever the list says. */
  | { type: 'ChangeDependencies'; applicationId: number; dependencies: { name: string; version: string }[] }
  | { type: 'ChangeEnvironment'; applicationId: number; names: string[]; valuesChanged: boolean }
  | { type: 'ChangeInitializationScript'; applicationId: number; initializationScript: string }
  | {
      type: 'RecordBuildStatus';
      applicationId: number;
      buildId: string;
      runtimeRevision: number;
      status: 'requested' | 'started' | 'succeeded' | 'failed' | 'skipped';
      error?: string;
    };

function requireRuntime(state: RuntimeState, applicationId: number): void {
  if (!state.exists || state.applicationId !== applicationId) {
    throw new RegistryError(RegistryErrorCode.RUNTIME_NOT_FOUND, `NodeJS chat runtime of application ${applicationId} not found`);
  }
}

/** Merges the default dependencies into a user list; rejects changing or duplicating them. */
export function withDefaultDependencies(list: { name: string; version: string }[]): RuntimeDependency[] {
  const seen = new Set<string>();
  const user: RuntimeDependency[] = [];
  list.forEach((d, i) => {
    if (seen.has(d.name)) {
      throw new RegistryError(RegistryErrorCode.INVALID_INPUT, `[${i}].name: duplicate dependency ${d.name}`, { field: `[${i}].name` });
    }
    seen.add(d.name);
    const def = DEFAULT_DEPENDENCIES.find((x) => x.name === d.name);
    if (def) {
      if (def.version !== d.version) {
        throw new RegistryError(
          RegistryErrorCode.INVALID_INPUT,
          `[${i}].version: ${d.name} is a default dependency fixed at ${def.version}`,
          { field: `[${i}].version` },
        );
      }
      return;
    }
    user.push({ name: d.name, version: d.version, defaultDependency: false });
  });
  return [...DEFAULT_DEPENDENCIES.map((d) => ({ ...d })), ...user];
}

const sameDeps = (a: RuntimeDependency[], b: RuntimeDependency[]) =>
  a.length === b.length && a.every((d, i) => d.name === b[i].name && d.version === b[i].version && d.defaultDependency === b[i].defaultDependency);

export function decideRuntime(command: RuntimeCommand, state: RuntimeState): RuntimeEvent[] {
  switch (command.type) {
    case 'CreateRuntime':
      if (state.exists) {
        throw new RegistryError(RegistryErrorCode.RUNTIME_ALREADY_EXISTS, `application ${command.applicationId} already has a runtime`);
      }
      return [
        {
          type: 'runtime.created',
          data: { runtimeId: command.runtimeId, applicationId: command.applicationId, dependencies: DEFAULT_DEPENDENCIES.map((d) => ({ ...d })) },
        },
      ];
    case 'ChangeDependencies': {
      requireRuntime(state, command.applicationId);
      const dependencies = withDefaultDependencies(command.dependencies);
      return sameDeps(dependencies, state.dependencies) ? [] : [{ type: 'runtime.dependencies-changed', data: { dependencies } }];
    }
    case 'ChangeEnvironment': {
      requireRuntime(state, command.applicationId);
      const names = [...command.names].sort();
      const sameNames = names.length === state.environmentNames.length && names.every((n, i) => n === state.environmentNames[i]);
      return sameNames && !command.valuesChanged ? [] : [{ type: 'runtime.environment-changed', data: { names } }];
    }
    case 'ChangeInitializationScript':
      requireRuntime(state, command.applicationId);
      return command.initializationScript === state.initializationScript
        ? []
        : [{ type: 'runtime.init-script-changed', data: { initializationScript: command.initializationScript } }];
    case 'RecordBuildStatus': {
      requireRuntime(state, command.applicationId);
      const status: BuildStatus | undefined =
        command.status === 'requested' || command.status === 'started'
          ? 'requested'
          : command.status === 'failed'
            ? 'failed'
            : 'succeeded';
      const last = state.lastBuild;
      // Redelivered or stale statuses change nothing.
      if (last && last.runtimeRevision > command.runtimeRevision) return [];
      if (last && last.buildId === command.buildId && (last.status === status || last.status !== 'requested')) return [];
      const data = { buildId: command.buildId, runtimeRevision: command.runtimeRevision };
      if (status === 'requested') return [{ type: 'runtime.build-requested', data }];
      if (status === 'succeeded') return [{ type: 'runtime.build-succeeded', data }];
      return [{ type: 'runtime.build-failed', data: { ...data, error: command.error ?? 'build failed' } }];
    }
  }
}

export function evolveRuntime(state: RuntimeState, event: RuntimeEvent): RuntimeState {
  const s: RuntimeState = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'runtime.created':
      return {
        ...s,
        exists: true,
        applicationId: event.data.applicationId,
        runtimeId: event.data.runtimeId,
        dependencies: event.data.dependencies,
        revision: 1,
        environmentRevision: 0,
      };
    case 'runtime.dependencies-changed':
      return { ...s, dependencies: event.data.dependencies, revision: s.revision + 1 };
    case 'runtime.environment-changed':
      return { ...s, environmentNames: event.data.names, revision: s.revision + 1, environmentRevision: s.environmentRevision + 1 };
    case 'runtime.init-script-changed':
      return { ...s, initializationScript: event.data.initializationScript, revision: s.revision + 1 };
    case 'runtime.build-requested':
      return { ...s, lastBuild: { ...event.data, status: 'requested' } };
    case 'runtime.build-succeeded':
      return { ...s, lastBuild: { ...event.data, status: 'succeeded' } };
    case 'runtime.build-failed':
      return { ...s, lastBuild: { ...event.data, status: 'failed' } };
  }
}

/** The change type published on `registry.runtime.changed.v1` for an event, if it changes the runtime definition. */
export function runtimeChangeType(event: RuntimeEvent): string | undefined {
  switch (event.type) {
    case 'runtime.created':
    case 'runtime.dependencies-changed':
    case 'runtime.environment-changed':
    case 'runtime.init-script-changed':
      return event.type;
    default:
      return undefined;
  }
}
