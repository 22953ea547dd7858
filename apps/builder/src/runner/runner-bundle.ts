import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RUNNER_DIST_PATH, RUNNER_SOURCE_PATH } from '@chatfn/runtime-artifacts';

/** The runner program copied into every artifact (one self-contained file) and its hash. */
export interface RunnerBundle {
  source: Buffer;
  hash: string;
}

export function runnerBundleOf(source: string | Buffer): RunnerBundle {
  const buf = Buffer.isBuffer(source) ? source : Buffer.from(source);
  return { source: buf, hash: createHash('sha256').update(buf).digest('hex').slice(0, 16) };
}

/** The directory holding chatfn's package.json, found upwards from `from`. */
export function installRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'chatfn') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/**
 * Loads the compiled runner (`dist/apps/runner/runner.js`); from TypeScript sources (tests), transpiles
 * `apps/runner/runner.ts` instead when the compiled file is missing or older than its source.
 */
export function loadRunnerBundle(root = installRoot()): RunnerBundle {
  const dist = join(root, RUNNER_DIST_PATH);
  const src = join(root, RUNNER_SOURCE_PATH);
  if (existsSync(dist) && !(existsSync(src) && isTsRuntime())) return runnerBundleOf(readFileSync(dist));
  if (existsSync(src)) {
    // typescript is a dev dependency: only reached when running from sources.
     
    const ts = require('typescript') as typeof import('typescript');
    const out = ts.transpileModule(readFileSync(src, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: 'runner.ts',
    });
    return runnerBundleOf(out.outputText);
  }
  if (existsSync(dist)) return runnerBundleOf(readFileSync(dist));
  throw new Error(`runner not found: neither ${dist} nor ${src} exists (run npm run build)`);
}

/** True when this module itself runs from TypeScript (jest/ts-node), so sources are the truth. */
function isTsRuntime(): boolean {
  return __filename.endsWith('.ts');
}
