import { useEffect, useRef } from 'react';
import { monaco } from './monaco-setup';

interface Props {
  value: string;
  onChange?: (v: string) => void;
  language: 'typescript' | 'json' | 'plaintext';
  /** The model's path (e.g. `file:///functions/3/handler.ts`). */
  path: string;
  onSave?: () => void;
  readOnly?: boolean;
  height?: number | string;
  testId?: string;
}

/** A Monaco editor bound to a model at `path`; Ctrl/Cmd+S calls `onSave`. */
export function CodeEditor({ value, onChange, language, path, onSave, readOnly, height = 420, testId }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const save = useRef(onSave);
  const change = useRef(onChange);
  save.current = onSave;
  change.current = onChange;

  useEffect(() => {
    const uri = monaco.Uri.parse(path);
    const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(value, language, uri);
    if (model.getValue() !== value) model.setValue(value);
    const ed = monaco.editor.create(host.current!, {
      model,
      theme: 'chatfn',
      readOnly,
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
      tabSize: 2,
      fixedOverflowWidgets: true,
      renderLineHighlight: 'line',
    });
    editor.current = ed;
    const sub = model.onDidChangeContent(() => change.current?.(model.getValue()));
    // addAction, not addCommand: commands are global and the last editor created would take Ctrl+S from the others.
    const action = ed.addAction({
      id: 'chatfn.save',
      label: 'Save',
      keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS],
      run: () => save.current?.(),
    });
    return () => {
      sub.dispose();
      action.dispose();
      ed.dispose();
      // Handler scripts are global scripts: two live models would both declare handleEvent.
      model.dispose();
      editor.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path, language]);

  useEffect(() => {
    const model = editor.current?.getModel();
    if (model && model.getValue() !== value) model.setValue(value);
  }, [value]);

  useEffect(() => {
    editor.current?.updateOptions({ readOnly });
  }, [readOnly]);

  return <div className="code-editor" ref={host} style={{ height }} data-testid={testId} />;
}

interface DiffProps {
  original: string;
  modified: string;
  height?: number | string;
}

/** Side-by-side (inline when narrow) diff of two scripts, read-only. */
export function DiffEditor({ original, modified, height = 360 }: DiffProps) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // JavaScript models go to the JS worker, so they never clash with the handler being edited.
    const a = monaco.editor.createModel(original, 'javascript');
    const b = monaco.editor.createModel(modified, 'javascript');
    const ed = monaco.editor.createDiffEditor(host.current!, {
      theme: 'chatfn',
      readOnly: true,
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 12,
      renderSideBySide: true,
      useInlineViewWhenSpaceIsLimited: true,
      scrollBeyondLastLine: false,
    });
    ed.setModel({ original: a, modified: b });
    return () => {
      ed.dispose();
      a.dispose();
      b.dispose();
    };
  }, [original, modified]);
  return <div className="code-editor" ref={host} style={{ height }} data-testid="diff-editor" />;
}
