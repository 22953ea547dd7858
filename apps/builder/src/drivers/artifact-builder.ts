import type { RuntimeDependency } from '@chatfn/contracts';
import type { ArtifactDriver } from '@chatfn/runtime-artifacts';
import type { BuildIdentity } from '../builds/content-hash';
import type { RunnerBundle } from '../runner/runner-bundle';

/** Everything that goes into one artifact (all content-addressed). */
export interface ArtifactSpec {
  buildId: string;
  contentHash: string;
  dependenciesHash: string;
  /** Normalized (defaults included, sorted). */
  dependencies: RuntimeDependency[];
  initializationScript: string;
  runner: RunnerBundle;
}

export interface ArtifactRef {
  image?: string;
  directory?: string;
}

export interface BuiltArtifact extends ArtifactRef {
  lockfile?: string;
  /** true when the dependency layer already existed (no npm install ran). */
  dependencyLayerReused: boolean;
}

/** Where build output goes (npm output, docker output, builder notes). */
export interface BuildLog {
  write(text: string): void;
}

/** An expected build failure (bad package, failing install script, timeout): becomes a `failed` status. */
export class BuildFailure extends Error {
  constructor(
    message: string,
    readonly code: 'INSTALL_FAILED' | 'IMAGE_BUILD_FAILED' | 'TIMEOUT' | 'CANCELLED' | 'INFRASTRUCTURE',
  ) {
    super(message);
    this.name = 'BuildFailure';
  }
}

/** Builds artifacts for one executor driver (chosen at start-up by EXECUTOR_DRIVER). */
export abstract class ArtifactBuilder {
  abstract readonly driver: ArtifactDriver;
  /** Base and Node major the artifacts are built on (part of every hash). */
  abstract identity(): Promise<BuildIdentity>;
  /** Whether a previously built artifact is still there (images can be pruned, directories collected). */
  abstract exists(ref: ArtifactRef): Promise<boolean>;
  abstract build(spec: ArtifactSpec, log: BuildLog, signal: AbortSignal): Promise<BuiltArtifact>;
  /** Removes artifacts whose content hash is not in `keep` and that are older than `graceMs`. */
  abstract collectGarbage(keep: Set<string>, graceMs: number): Promise<string[]>;
}
