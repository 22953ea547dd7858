import { RegistryErrorCode } from '../shared/registry.error';
import { decideRuntime, DEFAULT_DEPENDENCIES, evolveRuntime, initialRuntimeState, RuntimeCommand, RuntimeEvent } from './runtime.decider';

const APP = 5;
const created: RuntimeEvent = {
  type: 'runtime.created',
  data: { runtimeId: 1, applicationId: APP, dependencies: DEFAULT_DEPENDENCIES.map((d) => ({ ...d })) },
};
const chatkitty = { name: 'chatkitty', version: '2.106.8', defaultDependency: true };

function given(...events: RuntimeEvent[]) {
  const state = events.reduce(evolveRuntime, initialRuntimeState(APP));
  return {
    state,
    when: (command: RuntimeCommand) => ({
      then: (expected: RuntimeEvent[]) => expect(decideRuntime(command, state)).toEqual(expected),
      rejects: (code: RegistryErrorCode) => {
        expect(() => decideRuntime(command, state)).toThrow(expect.objectContaining({ code }));
      },
    }),
  };
}

describe('runtime decider', () => {
  it('creates a runtime with the default dependencies at revision 1, once', () => {
    given().when({ type: 'CreateRuntime', applicationId: APP, runtimeId: 1 }).then([created]);
    expect(given(created).state).toMatchObject({ revision: 1, environmentRevision: 0, dependencies: [chatkitty] });
    given(created).when({ type: 'CreateRuntime', applicationId: APP, runtimeId: 1 }).rejects(RegistryErrorCode.RUNTIME_ALREADY_EXISTS);
  });

  it('changes dependencies, always keeping the default ones first', () => {
    given(created)
      .when({ type: 'ChangeDependencies', applicationId: APP, dependencies: [{ name: 'lodash', version: '^4.17.21' }] })
      .then([
        {
          type: 'runtime.dependencies-changed',
          data: { dependencies: [chatkitty, { name: 'lodash', version: '^4.17.21', defaultDependency: false }] },
        },
      ]);
    // Sending the default dependency unchanged is allowed and changes nothing.
    given(created).when({ type: 'ChangeDependencies', applicationId: APP, dependencies: [{ name: 'chatkitty', version: '2.106.8' }] }).then([]);
  });

  it('rejects changing the default dependency, duplicates, and a missing runtime', () => {
    given(created)
      .when({ type: 'ChangeDependencies', applicationId: APP, dependencies: [{ name: 'chatkitty', version: '1.0.0' }] })
      .rejects(RegistryErrorCode.INVALID_INPUT);
    given(created)
      .when({ type: 'ChangeDependencies', applicationId: APP, dependencies: [{ name: 'a', version: '1' }, { name: 'a', version: '2' }] })
      .rejects(RegistryErrorCode.INVALID_INPUT);
    given().when({ type: 'ChangeDependencies', applicationId: APP, dependencies: [] }).rejects(RegistryErrorCode.RUNTIME_NOT_FOUND);
    given(created).when({ type: 'ChangeInitializationScript', applicationId: 9, initializationScript: 'x' }).rejects(RegistryErrorCode.RUNTIME_NOT_FOUND);
  });

  it('records environment changes by name only and bumps both revisions', () => {
    const ev: RuntimeEvent = { type: 'runtime.environment-changed', data: { names: ['A', 'B'] } };
    given(created).when({ type: 'ChangeEnvironment', applicationId: APP, names: ['B', 'A'], valuesChanged: true }).then([ev]);
    expect(given(created, ev).state).toMatchObject({ revision: 2, environmentRevision: 1, environmentNames: ['A', 'B'] });
    given(created, ev).when({ type: 'ChangeEnvironment', applicationId: APP, names: ['A', 'B'], valuesChanged: false }).then([]);
  });

  it('changes the initialization script', () => {
    const ev: RuntimeEvent = { type: 'runtime.init-script-changed', data: { initializationScript: 'globalThis.x = 1;' } };
    given(created).when({ type: 'ChangeInitializationScript', applicationId: APP, initializationScript: 'globalThis.x = 1;' }).then([ev]);
    given(created, ev).when({ type: 'ChangeInitializationScript', applicationId: APP, initializationScript: 'globalThis.x = 1;' }).then([]);
    expect(given(created, ev).state.revision).toBe(2);
  });

  it('records build requested, succeeded and failed; ignores redeliveries and stale builds', () => {
    const build = (status: any, buildId = 'b1', runtimeRevision = 1): RuntimeCommand => ({
      type: 'RecordBuildStatus',
      applicationId: APP,
      buildId,
      runtimeRevision,
      status,
      error: status === 'failed' ? 'npm ERR' : undefined,
    });
    const requested: RuntimeEvent = { type: 'runtime.build-requested', data: { buildId: 'b1', runtimeRevision: 1 } };
    const succeeded: RuntimeEvent = { type: 'runtime.build-succeeded', data: { buildId: 'b1', runtimeRevision: 1 } };
    given(created).when(build('requested')).then([requested]);
    given(created, requested).when(build('started')).then([]);
    given(created, requested).when(build('succeeded')).then([succeeded]);
    given(created, requested, succeeded).when(build('succeeded')).then([]);
    given(created, requested).when(build('failed')).then([
      { type: 'runtime.build-failed', data: { buildId: 'b1', runtimeRevision: 1, error: 'npm ERR' } },
    ]);
    given(created).when(build('skipped', 'b0')).then([{ type: 'runtime.build-succeeded', data: { buildId: 'b0', runtimeRevision: 1 } }]);
    const newer: RuntimeEvent = { type: 'runtime.build-succeeded', data: { buildId: 'b2', runtimeRevision: 3 } };
    given(created, newer).when(build('failed', 'b1', 2)).then([]);
  });
});
