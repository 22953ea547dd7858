import { FailurePolicy } from '@chatfn/contracts';
import { RegistryError, RegistryErrorCode } from '../shared/registry.error';

/**
 * The lifecycle of one chat function (stream `function-<id>`), as pure functions:
 * `decide(command, state) → events` and `evolve(state, event) → state`.
 */
export interface FunctionState {
  exists: boolean;
  id: number;
  applicationId: number;
  triggerType: string;
  name: string;
  description?: string;
  enabled: boolean;
  currentVersionNumber: number;
  currentVersionId?: number;
  /** Highest version number ever created (a rollback creates a new one). */
  latestVersionNumber: number;
  /** version number → version id, for every version created. */
  versions: Record<number, number>;
  timeoutMs: number;
  failurePolicy: FailurePolicy;
  /** Stream version (number of events applied). */
  version: number;
}

export const initialFunctionState = (id = 0): FunctionState => ({
  exists: false,
  id,
  applicationId: 0,
  triggerType: '',
  name: '',
  enabled: false,
  currentVersionNumber: 0,
  latestVersionNumber: 0,
  versions: {},
  timeoutMs: 0,
  failurePolicy: 'deny',
  version: 0,
});

export type FunctionEvent =
  | {
      type: 'function.created';
      data: { functionId: number; applicationId: number; triggerType: string; name: string; timeoutMs: number; failurePolicy: FailurePolicy };
    }
  | { type: 'function.described'; data: { name: string; description?: string } }
  | { type: 'function.version-deployed'; data: { versionId: number; versionNumber: number } }
  | { type: 'function.rolled-back'; data: { versionId: number; versionNumber: number; fromVersionNumber: number } }
  | { type: 'function.enabled'; data: Record<string, never> }
  | { type: 'function.disabled'; data: Record<string, never> }
  | { type: 'function.settings-changed'; data: { timeoutMs: number; failurePolicy: FailurePolicy } };

export type FunctionCommand =
  | {
      type: 'CreateFunction';
      functionId: number;
      applicationId: number;
      triggerType: string;
      name: string;
      timeoutMs: number;
      failurePolicy: FailurePolicy;
    }
  /** POST /v1/runtimes/nodejs/functions on an existing trigger: names, describes and enables it. */
  | { type: 'DefineFunction'; applicationId: number; name: string; description?: string }
  | { type: 'DeployFunctionVersion'; applicationId: number; versionId: number }
  | { type: 'RollbackFunction'; applicationId: number; versionId: number; toVersionNumber: number }
  | { type: 'EnableFunction'; applicationId: number }
  | { type: 'DisableFunction'; applicationId: number }
  | { type: 'ChangeFunctionSettings'; applicationId: number; timeoutMs?: number; failurePolicy?: FailurePolicy };

export const MIN_TIMEOUT_MS = 10;
export const MAX_TIMEOUT_MS = 900_000;

function requireOwned(state: FunctionState, applicationId: number): void {
  // Another application's function is reported exactly like a missing one: ids are not an oracle.
  if (!state.exists || state.applicationId !== applicationId) {
    throw new RegistryError(RegistryErrorCode.FUNCTION_NOT_FOUND, `Chat function with id ${state.id} not found`);
  }
}

export function decideFunction(command: FunctionCommand, state: FunctionState): FunctionEvent[] {
  switch (command.type) {
    case 'CreateFunction': {
      if (state.exists) {
        throw new RegistryError(RegistryErrorCode.FUNCTION_ALREADY_EXISTS, `Chat function with id ${state.id} already exists`);
      }
      const { functionId, applicationId, triggerType, name, timeoutMs, failurePolicy } = command;
      return [{ type: 'function.created', data: { functionId, applicationId, triggerType, name, timeoutMs, failurePolicy } }];
    }
    case 'DefineFunction': {
      requireOwned(state, command.applicationId);
      const events: FunctionEvent[] = [];
      if (command.name !== state.name || command.description !== state.description) {
        events.push({ type: 'function.described', data: { name: command.name, description: command.description } });
      }
      if (!state.enabled) events.push({ type: 'function.enabled', data: {} });
      return events;
    }
    case 'DeployFunctionVersion': {
      requireOwned(state, command.applicationId);
      const events: FunctionEvent[] = [
        { type: 'function.version-deployed', data: { versionId: command.versionId, versionNumber: state.latestVersionNumber + 1 } },
      ];
      // Saving the first version deploys a function that was never used: it starts running at once.
      if (state.latestVersionNumber === 0 && !state.enabled) events.push({ type: 'function.enabled', data: {} });
      return events;
    }
    case 'RollbackFunction': {
      requireOwned(state, command.applicationId);
      if (state.versions[command.toVersionNumber] === undefined) {
        throw new RegistryError(
          RegistryErrorCode.VERSION_NOT_FOUND,
          `Chat function ${state.id} has no version ${command.toVersionNumber}`,
          { version_number: command.toVersionNumber },
        );
      }
      if (command.toVersionNumber === state.currentVersionNumber) {
        throw new RegistryError(
          RegistryErrorCode.ALREADY_CURRENT_VERSION,
          `Version ${command.toVersionNumber} is already the current version of chat function ${state.id}`,
          { version_number: command.toVersionNumber },
        );
      }
      return [
        {
          type: 'function.rolled-back',
          data: { versionId: command.versionId, versionNumber: state.latestVersionNumber + 1, fromVersionNumber: command.toVersionNumber },
        },
      ];
    }
    case 'EnableFunction':
      requireOwned(state, command.applicationId);
      return state.enabled ? [] : [{ type: 'function.enabled', data: {} }];
    case 'DisableFunction':
      requireOwned(state, command.applicationId);
      return state.enabled ? [{ type: 'function.disabled', data: {} }] : [];
    case 'ChangeFunctionSettings': {
      requireOwned(state, command.applicationId);
      const timeoutMs = command.timeoutMs ?? state.timeoutMs;
      const failurePolicy = command.failurePolicy ?? state.failurePolicy;
      if (!Number.isInteger(timeoutMs) || timeoutMs < MIN_TIMEOUT_MS || timeoutMs > MAX_TIMEOUT_MS) {
        throw new RegistryError(
          RegistryErrorCode.INVALID_INPUT,
          `timeout_ms: must be an integer between ${MIN_TIMEOUT_MS} and ${MAX_TIMEOUT_MS}`,
          { field: 'timeout_ms' },
        );
      }
      if (timeoutMs === state.timeoutMs && failurePolicy === state.failurePolicy) return [];
      return [{ type: 'function.settings-changed', data: { timeoutMs, failurePolicy } }];
    }
  }
}

export function evolveFunction(state: FunctionState, event: FunctionEvent): FunctionState {
  const s: FunctionState = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'function.created':
      return {
        ...s,
        exists: true,
        id: event.data.functionId,
        applicationId: event.data.applicationId,
        triggerType: event.data.triggerType,
        name: event.data.name,
        timeoutMs: event.data.timeoutMs,
        failurePolicy: event.data.failurePolicy,
      };
    case 'function.described':
      return { ...s, name: event.data.name, description: event.data.description };
    case 'function.version-deployed':
    case 'function.rolled-back':
      return {
        ...s,
        currentVersionNumber: event.data.versionNumber,
        currentVersionId: event.data.versionId,
        latestVersionNumber: Math.max(s.latestVersionNumber, event.data.versionNumber),
        versions: { ...s.versions, [event.data.versionNumber]: event.data.versionId },
      };
    case 'function.enabled':
      return { ...s, enabled: true };
    case 'function.disabled':
      return { ...s, enabled: false };
    case 'function.settings-changed':
      return { ...s, timeoutMs: event.data.timeoutMs, failurePolicy: event.data.failurePolicy };
  }
}
