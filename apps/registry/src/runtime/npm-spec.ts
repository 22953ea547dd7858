/** Small validators for npm package names and version specs (no dependency on npm's own packages). */

const NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const BLOCKED_NAMES = new Set(['node_modules', 'favicon.ico']);

/** Why `name` is not a valid name for a new npm package, or undefined when it is. */
export function npmNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 214) return 'must be at most 214 characters';
  if (name.trim() !== name) return 'must not have leading or trailing spaces';
  if (/^[._]/.test(name)) return 'must not start with a dot or an underscore';
  if (name.toLowerCase() !== name) return 'must be lowercase';
  if (BLOCKED_NAMES.has(name)) return 'is a reserved name';
  if (!NAME.test(name)) return 'may only contain URL-safe characters (a-z, 0-9, -, ., _, ~) and one @scope/ prefix';
  return undefined;
}

const NR = '(?:0|[1-9]\\d*)';
const XR = `(?:[xX*]|${NR})`;
const PRE = '(?:-?[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)';
const BUILD = '(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)';
const PARTIAL = `v?${XR}(?:\\.${XR}(?:\\.${XR}${PRE}?${BUILD}?)?)?`;
const PRIMITIVE = new RegExp(`^(?:<=|>=|<|>|=|~>|~|\\^)?\\s*${PARTIAL}$`);
const HYPHEN = new RegExp(`^${PARTIAL}\\s+-\\s+${PARTIAL}$`);
const DIST_TAG = /^[A-Za-z][A-Za-z0-9._-]*$/;

/** True for a semver range (`^1.2.3`, `~1`, `>=1 <2`, `1.x || 2`, `1.0.0 - 2.0.0`, `*`, ...). */
export function isSemverRange(spec: string): boolean {
  const s = spec.trim();
  if (s === '' || s === '*' || s === 'x' || s === 'X') return true;
  return s.split('||').every((set) => {
    const t = set.trim();
    if (t === '') return true;
    if (HYPHEN.test(t)) return true;
    // Join an operator separated from its version by spaces (">= 1.2") before splitting on spaces.
    const parts = t.replace(/(<=|>=|<|>|=|~>|~|\^)\s+/g, '$1').split(/\s+/);
    return parts.every((p) => PRIMITIVE.test(p));
  });
}

/** Why `version` is not a semver range or a dist-tag, or undefined when it is. URLs, git and file specs are refused. */
export function npmVersionProblem(version: string): string | undefined {
  if (version.length === 0) return 'must not be empty';
  if (version.length > 256) return 'must be at most 256 characters';
  if (/[:/\\]/.test(version)) return 'must be a semver range or a dist-tag (URLs, git, file and alias specs are not allowed)';
  if (isSemverRange(version)) return undefined;
  if (DIST_TAG.test(version)) return undefined;
  return 'must be a semver range (e.g. ^1.2.3) or a dist-tag (e.g. latest)';
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const RESERVED_ENV_PREFIXES = ['CHATKITTY_', 'CHATFN_'];
export const MAX_DEPENDENCIES = 50;
export const MAX_ENV_VARS = 100;
export const MAX_ENV_VALUE_BYTES = 4 * 1024;

export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) return 'must match [A-Za-z_][A-Za-z0-9_]*';
  const upper = name.toUpperCase();
  const reserved = RESERVED_ENV_PREFIXES.find((p) => upper.startsWith(p));
  if (reserved) return `names starting with ${reserved} are reserved by the platform`;
  return undefined;
}
