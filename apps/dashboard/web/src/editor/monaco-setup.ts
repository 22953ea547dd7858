import * as monaco from 'monaco-editor';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import JsonWorker from 'monaco-editor/language/json/json.worker?worker';
import TsWorker from 'monaco-editor/language/typescript/ts.worker?worker';
import { CONTEXT_TYPINGS } from './context-typings';
import { handlerTypings } from './trigger-typings';

/** Monaco bundled locally: workers come from this build, never a CDN. */
(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    if (label === 'typescript' || label === 'javascript') return new TsWorker();
    if (label === 'json') return new JsonWorker();
    return new EditorWorker();
  },
};

const ts = monaco.typescript;
ts.typescriptDefaults.setCompilerOptions({
  target: ts.ScriptTarget.ES2020,
  module: ts.ModuleKind.CommonJS,
  allowJs: true,
  strict: true,
  noImplicitAny: false,
  allowNonTsExtensions: true,
  // dom for console, fetch, URL, timers (Node has them too)
  lib: ['es2022', 'dom'],
});
ts.typescriptDefaults.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false });
ts.typescriptDefaults.setEagerModelSync(true);

let lib: monaco.IDisposable | undefined;

/** Points IntelliSense at the trigger of the function being edited (`event` and `context` types). */
export function useTriggerTypings(trigger: string): void {
  lib?.dispose();
  lib = ts.typescriptDefaults.addExtraLib(handlerTypings(trigger, CONTEXT_TYPINGS), 'file:///chatfn/handler-env.d.ts');
}

monaco.editor.defineTheme('chatfn', {
  base: 'vs',
  inherit: true,
  rules: [],
  colors: { 'editor.background': '#fbfbfd', 'editorLineNumber.foreground': '#a0a4b8', 'editorGutter.background': '#f4f5f9' },
});

// The global the AMD build of Monaco defines too: lets scripts and browser tests reach editors and models.
(window as unknown as { monaco: typeof monaco }).monaco = monaco;

export { monaco };
