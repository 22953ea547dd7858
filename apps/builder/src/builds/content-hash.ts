import { createHash } from 'node:crypto';
import type { RuntimeDependency } from '@chatfn/contracts';
import { DEFAULT_RUNTIME_DEPENDENCIES } from '@chatfn/runtime-artifacts';

/** What a runtime artifact is built on: the base (image id, or `host` for the process driver) and Node's major. */
export interface BuildIdentity {
  base: string;
  nodeMajor: number;
}

/**
 * The dependency list as it is installed: the defaults are always present (a runtime's own entry for a default
 * package wins), one entry per package name, sorted by name so equal sets hash equally.
 */
export function normalizeDependencies(deps: readonly RuntimeDependency[]): RuntimeDependency[] {
  const byName = new Map<string, RuntimeDependency>();
  for (const d of DEFAULT_RUNTIME_DEPENDENCIES) byName.set(d.name, { ...d });
  for (const d of deps) {
    const name = d.name.trim();
    const version = d.version.trim() || 'latest';
    byName.set(name, { name, version, defaultDependency: d.defaultDependency || byName.get(name)?.defaultDependency === true });
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function sha256(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Hash of the dependency layer: base, Node major and the normalized dependency list. */
export function dependenciesHash(id: BuildIdentity, deps: readonly RuntimeDependency[]): string {
  return sha256(['deps/v1', id.base, id.nodeMajor, normalizeDependencies(deps).map((d) => [d.name, d.version])]).slice(0, 32);
}

/** Hash of the whole artifact: the dependency layer plus the runner and the initialization script. */
export function contentHash(id: BuildIdentity, deps: readonly RuntimeDependency[], initScript: string, runnerHash: string): string {
  return sha256(['runtime/v1', dependenciesHash(id, deps), runnerHash, initScript]).slice(0, 32);
}

/** The generated package.json: exact what the user listed (`npm install name@version` semantics). */
export function packageJsonFor(deps: readonly RuntimeDependency[]): string {
  const dependencies: Record<string, string> = {};
  for (const d of normalizeDependencies(deps)) dependencies[d.name] = d.version;
  return `${JSON.stringify({ name: 'chatfn-runtime', version: '1.0.0', private: true, license: 'UNLICENSED', dependencies }, null, 2)}\n`;
}
