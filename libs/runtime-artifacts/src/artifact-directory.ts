import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChatfnConfig } from '@chatfn/config';
import { MessageBus, Subscription } from '@chatfn/messaging';
import { RuntimeBuildRepository, toLiveArtifact } from './runtime-build.repository';
import type { ArtifactDriver, LiveArtifact } from './runtime-layout';

export interface ArtifactChange {
  applicationId: number;
  driver: ArtifactDriver;
  /** The new live artifact (undefined: the application has none). */
  artifact: LiveArtifact | undefined;
  /** The one it replaced, if this directory knew it. */
  previous: LiveArtifact | undefined;
}

export type ArtifactChangeListener = (change: ArtifactChange) => void | Promise<void>;

/**
 * Which runtime artifact each application's runners use (what the executor asks before starting a runner).
 * Reads `runtime_builds` (the builder's table; `live` marks the artifact in use) and follows
 * `builder.build.status.v1`: every status of an application re-reads its live artifact and, when it changed, tells
 * the `onChange` listeners. Each process has its own consumer group, so every instance sees every status.
 */
@Injectable()
export class ArtifactDirectory implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ArtifactDirectory.name);
  private readonly repo: RuntimeBuildRepository;
  private readonly cache = new Map<string, Promise<LiveArtifact | undefined>>();
  private readonly listeners = new Set<ArtifactChangeListener>();
  private subscription?: Subscription;

  constructor(
    dataSource: DataSource,
    private readonly bus: MessageBus,
    private readonly config: ChatfnConfig,
  ) {
    this.repo = new RuntimeBuildRepository(dataSource);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async start(): Promise<void> {
    if (this.subscription) return;
    this.subscription = await this.bus.subscribe(
      'builder.build.status.v1',
      `artifact-directory.${this.config.instanceId}`,
      async ({ payload }) => {
        if (payload.status === 'succeeded' || payload.status === 'skipped' || payload.status === 'failed') {
          await this.refresh(payload.applicationId, payload.driver);
        }
      },
    );
  }

  async stop(): Promise<void> {
    const s = this.subscription;
    this.subscription = undefined;
    await s?.close();
  }

  /** The artifact the application's runners should use now, or undefined when none was built yet. */
  live(applicationId: number, driver: ArtifactDriver): Promise<LiveArtifact | undefined> {
    const key = `${applicationId}:${driver}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.load(applicationId, driver);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  /** Called after an application's live artifact changed; returns a function that removes the listener. */
  onChange(listener: ArtifactChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads an application's live artifact (also called by the builder in the same process right after a change). */
  async refresh(applicationId: number, driver: ArtifactDriver): Promise<void> {
    const key = `${applicationId}:${driver}`;
    const before = this.cache.has(key) ? await this.cache.get(key)!.catch(() => undefined) : undefined;
    const next = this.load(applicationId, driver);
    this.cache.set(key, next);
    const after = await next;
    if (before?.buildId === after?.buildId) return;
    for (const l of this.listeners) {
      try {
        await l({ applicationId, driver, artifact: after, previous: before });
      } catch (e) {
        this.logger.error(`artifact listener failed: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  }

  private async load(applicationId: number, driver: ArtifactDriver): Promise<LiveArtifact | undefined> {
    const b = await this.repo.live(applicationId, driver);
    return b ? toLiveArtifact(b) : undefined;
  }
}
