import type { RuntimeDependency } from '@chatfn/contracts';

/** The two places a runtime artifact can live: a Docker image, or a directory for the process driver. */
export type ArtifactDriver = 'process' | 'docker';

/**
 * One layout for both drivers, so the runner does not care where it runs. The runtime root is `/app` inside an
 * image and `<CHATFN_DATA_DIR>/runtimes/<contentHash>/` for the process driver; start the runner with
 * `node <root>/runner.js` and `CHATFN_RUNTIME_DIR=<root>` (it resolves `require` from `<root>/node_modules` and
 * reads `<root>/init.js`).
 */
export const RUNTIME_LAYOUT = {
  /** Runtime root inside a runtime image. */
  imageRoot: '/app',
  runner: 'runner.js',
  initScript: 'init.js',
  /** JSON {contentHash, dependenciesHash, dependencies, nodeMajor, runnerHash} written beside the runner. */
  manifest: 'chatfn-runtime.json',
  packageJson: 'package.json',
  lockfile: 'package-lock.json',
  nodeModules: 'node_modules',
} as const;

/** Where the compiled runner is, relative to the repository (or install) root; the builder copies this one file. */
export const RUNNER_DIST_PATH = 'dist/apps/runner/runner.js';
/** Its source, transpiled on the fly when the compiled file is missing (tests running from TypeScript). */
export const RUNNER_SOURCE_PATH = 'apps/runner/runner.ts';

/** Image repositories the builder tags; runtime tags are `chatfn-runtime:<contentHash>`. */
export const RUNTIME_IMAGE_REPOSITORY = 'chatfn-runtime';
export const DEPENDENCY_IMAGE_REPOSITORY = 'chatfn-deps';

/** Always installed, whatever the runtime lists (the handler context's SDK). */
export const DEFAULT_RUNTIME_DEPENDENCIES: readonly RuntimeDependency[] = [
  { name: 'chatkitty', version: '2.106.8', defaultDependency: true },
];

/** What an executor needs to start runners of an application's live runtime. */
export interface LiveArtifact {
  buildId: string;
  contentHash: string;
  /** Docker driver: the image reference (`chatfn-runtime:<hash>` or the registry reference when pushed). */
  image?: string;
  /** Process driver: the runtime root directory. */
  directory?: string;
  runtimeRevision: number;
}
