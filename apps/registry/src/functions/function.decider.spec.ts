import { RegistryErrorCode } from '../shared/registry.error';
import { decideFunction, evolveFunction, FunctionCommand, FunctionEvent, FunctionState, initialFunctionState } from './function.decider';

const APP = 7;
const created: FunctionEvent = {
  type: 'function.created',
  data: { functionId: 1, applicationId: APP, triggerType: 'user.sent.message', name: 'User Sent Message', timeoutMs: 10000, failurePolicy: 'deny' },
};
const deployed = (versionNumber: number, versionId = versionNumber * 10): FunctionEvent => ({
  type: 'function.version-deployed',
  data: { versionId, versionNumber },
});

/** given events, when command, then events (or a rejection code). */
function given(...events: FunctionEvent[]) {
  const state = events.reduce(evolveFunction, initialFunctionState(1));
  return {
    state,
    when: (command: FunctionCommand) => ({
      then: (expected: FunctionEvent[]) => expect(decideFunction(command, state)).toEqual(expected),
      rejects: (code: RegistryErrorCode) => {
        try {
          decideFunction(command, state);
        } catch (e: any) {
          expect(e.code).toBe(code);
          return;
        }
        throw new Error(`expected ${code}, the command was accepted`);
      },
    }),
  };
}

describe('function decider', () => {
  it('creates a function once', () => {
    const cmd: FunctionCommand = { type: 'CreateFunction', ...created.data, applicationId: APP } as any;
    given().when(cmd).then([created]);
    given(created).when(cmd).rejects(RegistryErrorCode.FUNCTION_ALREADY_EXISTS);
  });

  it('deploys the first version as 1 and enables the function', () => {
    given(created)
      .when({ type: 'DeployFunctionVersion', applicationId: APP, versionId: 10 })
      .then([deployed(1), { type: 'function.enabled', data: {} }]);
  });

  it('deploys later versions with the next number and keeps a disabled function disabled', () => {
    given(created, deployed(1), { type: 'function.enabled', data: {} }, { type: 'function.disabled', data: {} })
      .when({ type: 'DeployFunctionVersion', applicationId: APP, versionId: 20 })
      .then([deployed(2, 20)]);
  });

  it('rejects a deploy to a function of another application or to a missing function', () => {
    given(created).when({ type: 'DeployFunctionVersion', applicationId: APP + 1, versionId: 10 }).rejects(RegistryErrorCode.FUNCTION_NOT_FOUND);
    given().when({ type: 'DeployFunctionVersion', applicationId: APP, versionId: 10 }).rejects(RegistryErrorCode.FUNCTION_NOT_FOUND);
  });

  it('rolls back by creating a new version from an old one', () => {
    const g = given(created, deployed(1), deployed(2));
    g.when({ type: 'RollbackFunction', applicationId: APP, versionId: 30, toVersionNumber: 1 }).then([
      { type: 'function.rolled-back', data: { versionId: 30, versionNumber: 3, fromVersionNumber: 1 } },
    ]);
    const after = evolveFunction(g.state, { type: 'function.rolled-back', data: { versionId: 30, versionNumber: 3, fromVersionNumber: 1 } });
    expect(after.currentVersionNumber).toBe(3);
    expect(after.currentVersionId).toBe(30);
    expect(after.versions).toEqual({ 1: 10, 2: 20, 3: 30 });
  });

  it('rejects a rollback to a missing version, to the current version, or in another application', () => {
    const g = given(created, deployed(1), deployed(2));
    g.when({ type: 'RollbackFunction', applicationId: APP, versionId: 30, toVersionNumber: 9 }).rejects(RegistryErrorCode.VERSION_NOT_FOUND);
    g.when({ type: 'RollbackFunction', applicationId: APP, versionId: 30, toVersionNumber: 2 }).rejects(RegistryErrorCode.ALREADY_CURRENT_VERSION);
    g.when({ type: 'RollbackFunction', applicationId: 99, versionId: 30, toVersionNumber: 1 }).rejects(RegistryErrorCode.FUNCTION_NOT_FOUND);
  });

  it('enables and disables idempotently', () => {
    given(created).when({ type: 'EnableFunction', applicationId: APP }).then([{ type: 'function.enabled', data: {} }]);
    given(created, { type: 'function.enabled', data: {} }).when({ type: 'EnableFunction', applicationId: APP }).then([]);
    given(created).when({ type: 'DisableFunction', applicationId: APP }).then([]);
    given(created, { type: 'function.enabled', data: {} })
      .when({ type: 'DisableFunction', applicationId: APP })
      .then([{ type: 'function.disabled', data: {} }]);
    given(created).when({ type: 'EnableFunction', applicationId: 3 }).rejects(RegistryErrorCode.FUNCTION_NOT_FOUND);
  });

  it('changes settings, ignores no-op changes and rejects out-of-range timeouts', () => {
    given(created)
      .when({ type: 'ChangeFunctionSettings', applicationId: APP, timeoutMs: 2000 })
      .then([{ type: 'function.settings-changed', data: { timeoutMs: 2000, failurePolicy: 'deny' } }]);
    given(created)
      .when({ type: 'ChangeFunctionSettings', applicationId: APP, failurePolicy: 'allow' })
      .then([{ type: 'function.settings-changed', data: { timeoutMs: 10000, failurePolicy: 'allow' } }]);
    given(created).when({ type: 'ChangeFunctionSettings', applicationId: APP, timeoutMs: 10000 }).then([]);
    given(created).when({ type: 'ChangeFunctionSettings', applicationId: APP, timeoutMs: 1 }).rejects(RegistryErrorCode.INVALID_INPUT);
  });

  it('defines (names and enables) an existing function', () => {
    given(created)
      .when({ type: 'DefineFunction', applicationId: APP, name: 'Greeter', description: 'hi' })
      .then([
        { type: 'function.described', data: { name: 'Greeter', description: 'hi' } },
        { type: 'function.enabled', data: {} },
      ]);
  });

  it('evolves the stream version with every event', () => {
    const s: FunctionState = [created, deployed(1), { type: 'function.enabled', data: {} } as FunctionEvent].reduce(
      evolveFunction,
      initialFunctionState(1),
    );
    expect(s).toMatchObject({ version: 3, enabled: true, currentVersionNumber: 1, latestVersionNumber: 1, exists: true });
  });
});
