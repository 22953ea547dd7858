import { randomUUID } from 'node:crypto';
import { FunctionChangedPayload, FunctionSnapshot } from '@chatfn/contracts';
import { MessageBus, Subscription } from '@chatfn/messaging';
import { DataSource } from 'typeorm';
import { loadFunctionSnapshots } from './snapshot-queries';

export interface FunctionChange {
  /** `function.loaded` for the initial load, otherwise the change type from `registry.function.changed.v1`. */
  type: string;
  version: number;
  function: FunctionSnapshot;
}
export type FunctionChangeListener = (change: FunctionChange) => void;

/**
 * An in-memory view of every chat function, for the router, the executor and chat (blocking triggers).
 * `start()` subscribes to `registry.function.changed.v1` with a group unique to this process (so every process sees
 * every change) and then loads the table; a snapshot is applied only when its stream version is newer than the one
 * held, so the load and the topic can interleave in any order.
 *
 * An application whose functions were never touched has no rows: `get` returns undefined. A function that exists
 * but has no version has `currentVersionNumber: 0` and no `handlerScript`; use `findRunnable` to get only enabled
 * functions with code.
 */
export class FunctionDirectory {
  private readonly byId = new Map<number, { snapshot: FunctionSnapshot; version: number }>();
  private readonly byTrigger = new Map<string, number>();
  private readonly listeners = new Set<FunctionChangeListener>();
  private subscription?: Subscription;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: MessageBus,
    private readonly group = `function-directory-${randomUUID()}`,
  ) {}

  async start(): Promise<void> {
    if (this.subscription) return;
    this.subscription = await this.bus.subscribe('registry.function.changed.v1', this.group, async (env) => {
      this.apply(env.payload);
    });
    for (const { snapshot, version } of await loadFunctionSnapshots(this.dataSource)) {
      this.apply({ type: 'function.loaded', version, function: snapshot });
    }
  }

  async stop(): Promise<void> {
    const sub = this.subscription;
    this.subscription = undefined;
    await sub?.close();
  }

  get(applicationId: number, triggerType: string): FunctionSnapshot | undefined {
    const id = this.byTrigger.get(key(applicationId, triggerType));
    return id === undefined ? undefined : this.byId.get(id)?.snapshot;
  }

  /** The function for the trigger if it is enabled and has a deployed version, else undefined. */
  findRunnable(applicationId: number, triggerType: string): (FunctionSnapshot & { handlerScript: string }) | undefined {
    const f = this.get(applicationId, triggerType);
    return f && f.enabled && f.currentVersionNumber > 0 && f.handlerScript !== undefined
      ? (f as FunctionSnapshot & { handlerScript: string })
      : undefined;
  }

  getById(functionId: number): FunctionSnapshot | undefined {
    return this.byId.get(functionId)?.snapshot;
  }

  /** Every function held (e.g. to pre-warm the runners of applications with blocking functions at start-up). */
  all(): FunctionSnapshot[] {
    return [...this.byId.values()].map((e) => e.snapshot);
  }

  /** Stream version of the function held here (0 when unknown); lets tests wait for a change to arrive. */
  versionOf(functionId: number): number {
    return this.byId.get(functionId)?.version ?? 0;
  }

  /** Calls `listener` after each applied change; returns a function that removes it. */
  onChange(listener: FunctionChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies a change if it is newer than what is held; returns whether it was applied. */
  apply(change: FunctionChangedPayload): boolean {
    const f = change.function;
    const held = this.byId.get(f.id);
    if (held && held.version >= change.version) return false;
    this.byId.set(f.id, { snapshot: f, version: change.version });
    this.byTrigger.set(key(f.applicationId, f.triggerType), f.id);
    for (const l of this.listeners) {
      try {
        l({ type: change.type, version: change.version, function: f });
      } catch (e) {
        console.error('[function-directory] listener failed', e);
      }
    }
    return true;
  }
}

const key = (applicationId: number, triggerType: string) => `${applicationId}:${triggerType}`;
