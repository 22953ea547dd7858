import { Injectable } from '@nestjs/common';
import { Keys, RuntimeSnapshot } from '@chatfn/contracts';
import { EventStore } from '@chatfn/event-store';
import { MessageBus } from '@chatfn/messaging';
import { EntityManager } from 'typeorm';
import {
  decideRuntime,
  evolveRuntime,
  initialRuntimeState,
  RuntimeCommand,
  RuntimeEvent,
  runtimeChangeType,
  RuntimeState,
} from './runtime.decider';

export const runtimeStream = (applicationId: number) => `runtime-${applicationId}`;

/**
 * Runs one runtime command in the caller's transaction: folds `runtime-<appId>`, decides, appends, writes the
 * `runtimes` read model and enqueues `registry.runtime.changed.v1` for definition changes (never env values).
 */
@Injectable()
export class RuntimeCommandHandler {
  constructor(
    private readonly store: EventStore,
    private readonly bus: MessageBus,
  ) {}

  async load(manager: EntityManager, applicationId: number, lock: boolean): Promise<RuntimeState> {
    if (lock) await manager.query('SELECT id FROM runtimes WHERE application_id = $1 FOR UPDATE', [applicationId]);
    const events = await this.store.read(runtimeStream(applicationId), 1, manager);
    return events.map((e) => ({ type: e.type, data: e.data }) as RuntimeEvent).reduce(evolveRuntime, initialRuntimeState(applicationId));
  }

  async execute(manager: EntityManager, command: RuntimeCommand, metadata: Record<string, unknown> = {}): Promise<RuntimeState> {
    const state = await this.load(manager, command.applicationId, true);
    const events = decideRuntime(command, state);
    if (events.length === 0) return state;
    const states: RuntimeState[] = [];
    let s = state;
    for (const e of events) {
      s = evolveRuntime(s, e);
      states.push(s);
    }
    await this.store.append(
      manager,
      runtimeStream(command.applicationId),
      state.version === 0 ? 'no-stream' : state.version,
      events.map((e) => ({ type: e.type, data: e.data, metadata })),
    );
    await manager.query(
      `UPDATE runtimes SET dependencies = $2::jsonb, initialization_script = $3, revision = $4, environment_revision = $5,
              stream_version = $6, build_status = $7, build_id = $8, build_revision = $9, build_error = $10, updated_time = now()
        WHERE application_id = $1`,
      [
        command.applicationId,
        JSON.stringify(s.dependencies),
        s.initializationScript,
        s.revision,
        s.environmentRevision,
        s.version,
        s.lastBuild?.status ?? null,
        s.lastBuild?.buildId ?? null,
        s.lastBuild?.runtimeRevision ?? null,
        s.lastBuild?.error ?? null,
      ],
    );
    const envelopes = [];
    for (let i = 0; i < events.length; i++) {
      const type = runtimeChangeType(events[i]);
      if (!type) continue;
      envelopes.push(
        this.bus.envelope('registry.runtime.changed.v1', { type, runtime: runtimeSnapshot(states[i]) }, {
          key: Keys.application(command.applicationId),
        }),
      );
    }
    await this.store.enqueue(manager, envelopes);
    return s;
  }
}

export function runtimeSnapshot(s: RuntimeState): RuntimeSnapshot {
  return {
    applicationId: s.applicationId,
    runtimeId: s.runtimeId,
    type: 'NODEJS',
    dependencies: s.dependencies.map((d) => ({ name: d.name, version: d.version, defaultDependency: d.defaultDependency })),
    initializationScript: s.initializationScript,
    revision: s.revision,
    environmentRevision: s.environmentRevision,
  };
}
