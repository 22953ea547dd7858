import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Path of the runner as one plain JavaScript file (what the process driver starts and the builder copies into
 * runtime images). Built code uses `dist/apps/runner/runner.js`; under ts-jest/swc (sources only) the TypeScript
 * source is transpiled once into a content-addressed temp file.
 */
export function runnerScriptPath(): string {
  const compiled = join(__dirname, 'runner.js');
  if (existsSync(compiled)) return compiled;
  const source = readFileSync(join(__dirname, 'runner.ts'), 'utf8');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `chatfn-runner-${hash}`);
  const out = join(dir, 'runner.js');
  if (existsSync(out)) return out;
  const ts = require('typescript') as typeof import('typescript');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, js);
  renameSync(tmp, out);
  return out;
}
