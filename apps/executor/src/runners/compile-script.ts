import { createHash } from 'node:crypto';

const cache = new Map<string, string>();

/**
 * TypeScript/ESM → CommonJS for scripts that reach the executor uncompiled (draft test runs, the base runtime's
 * initialization script). Compiled JavaScript passes through unchanged in meaning. Syntax errors surface when the
 * runner evaluates the script, as the invocation's error.
 */
export function compileScript(source: string): string {
  const key = createHash('sha256').update(source).digest('hex');
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let out = source;
  try {
    const ts = require('typescript') as typeof import('typescript');
    out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
  } catch {
    /* typescript not installed: run the script as it is */
  }
  if (cache.size > 500) cache.clear();
  cache.set(key, out);
  return out;
}
