import ts from 'typescript';
import { RegistryError, RegistryErrorCode } from '../shared/registry.error';

export const MAX_SCRIPT_BYTES = 256 * 1024;

export interface CompiledScript {
  /** CommonJS JavaScript: may use `require`, `exports` and `module`; defines `handleEvent` at top level. */
  compiled: string;
}

/**
 * Parses TypeScript/JavaScript, reports the first syntax error with its line and column, optionally requires a
 * top-level `handleEvent` function, and transpiles to CommonJS JavaScript (types stripped, `import` → `require`).
 */
export function compileScript(source: string, opts: { field: string; requireHandleEvent: boolean }): CompiledScript {
  const { field } = opts;
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_SCRIPT_BYTES) {
    throw new RegistryError(RegistryErrorCode.INVALID_INPUT, `${field}: script is ${bytes} bytes, the limit is ${MAX_SCRIPT_BYTES}`, {
      field,
      limit: MAX_SCRIPT_BYTES,
    });
  }
  const out = ts.transpileModule(source, {
    fileName: 'handler.ts',
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
      inlineSourceMap: false,
      removeComments: false,
    },
  });
  const diag = (out.diagnostics ?? []).find((d) => d.category === ts.DiagnosticCategory.Error);
  if (diag) {
    const message = ts.flattenDiagnosticMessageText(diag.messageText, '\n');
    let line: number | undefined;
    let column: number | undefined;
    if (diag.file && diag.start !== undefined) {
      const pos = diag.file.getLineAndCharacterOfPosition(diag.start);
      line = pos.line + 1;
      column = pos.character + 1;
    }
    const where = line === undefined ? '' : ` (line ${line}, column ${column})`;
    throw new RegistryError(RegistryErrorCode.INVALID_INPUT, `${field}: syntax error${where}: ${message}`, {
      field,
      line,
      column,
      code: `TS${diag.code}`,
    });
  }
  if (opts.requireHandleEvent && !definesHandleEvent(source)) {
    throw new RegistryError(
      RegistryErrorCode.INVALID_INPUT,
      `${field}: the script must define a top-level function named handleEvent, e.g. async function handleEvent(event, context) { ... }`,
      { field },
    );
  }
  return { compiled: out.outputText };
}

function definesHandleEvent(source: string): boolean {
  const file = ts.createSourceFile('handler.ts', source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  for (const st of file.statements) {
    if (ts.isFunctionDeclaration(st) && st.name?.text === 'handleEvent' && st.body) return true;
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (
          ts.isIdentifier(d.name) &&
          d.name.text === 'handleEvent' &&
          d.initializer &&
          (ts.isFunctionExpression(d.initializer) || ts.isArrowFunction(d.initializer))
        ) {
          return true;
        }
      }
    }
  }
  return false;
}
