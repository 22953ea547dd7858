import { randomUUID } from 'node:crypto';
import { RuntimeChangedPayload, RuntimeSnapshot } from '@chatfn/contracts';
import { MessageBus, Subscription } from '@chatfn/messaging';
import { DataSource } from 'typeorm';
import { loadEnvironment, loadRuntimeSnapshots } from './snapshot-queries';

export interface RuntimeChange {
  /** `runtime.loaded` for the initial load, otherwise the type from `registry.runtime.changed.v1`. */
  type: string;
  runtime: RuntimeSnapshot;
}
export type RuntimeChangeListener = (change: RuntimeChange) => void;

/**
 * An in-memory view of every application's runtime (dependencies, initialization script, revisions), kept current
 * from `registry.runtime.changed.v1` (a group unique to this process); a change is applied only when its `revision`
 * is newer. Environment values never travel on the bus: `environmentOf` reads and decrypts them from the database.
 */
export class RuntimeDirectory {
  private readonly byApp = new Map<number, RuntimeSnapshot>();
  private readonly listeners = new Set<RuntimeChangeListener>();
  private subscription?: Subscription;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: MessageBus,
    /** The installation's 32-byte AES-256-GCM key (`InstallationSecrets.encryptionKey`). */
    private readonly encryptionKey: Buffer,
    private readonly group = `runtime-directory-${randomUUID()}`,
  ) {}

  async start(): Promise<void> {
    if (this.subscription) return;
    this.subscription = await this.bus.subscribe('registry.runtime.changed.v1', this.group, async (env) => {
      this.apply(env.payload);
    });
    for (const runtime of await loadRuntimeSnapshots(this.dataSource)) this.apply({ type: 'runtime.loaded', runtime });
  }

  async stop(): Promise<void> {
    const sub = this.subscription;
    this.subscription = undefined;
    await sub?.close();
  }

  /** The application's runtime, or undefined when the application never touched its runtime (use defaults). */
  get(applicationId: number): RuntimeSnapshot | undefined {
    return this.byApp.get(applicationId);
  }

  all(): RuntimeSnapshot[] {
    return [...this.byApp.values()];
  }

  /** The application's environment variables, decrypted (empty when none). */
  environmentOf(applicationId: number): Promise<Record<string, string>> {
    return loadEnvironment(this.dataSource, this.encryptionKey, applicationId);
  }

  onChange(listener: RuntimeChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(change: RuntimeChangedPayload): boolean {
    const r = change.runtime;
    const held = this.byApp.get(r.applicationId);
    if (held && held.revision >= r.revision) return false;
    this.byApp.set(r.applicationId, r);
    for (const l of this.listeners) {
      try {
        l({ type: change.type, runtime: r });
      } catch (e) {
        console.error('[runtime-directory] listener failed', e);
      }
    }
    return true;
  }
}
