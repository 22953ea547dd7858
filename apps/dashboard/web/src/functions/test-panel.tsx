import { useEffect, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { ChatFunction, TestRunResult } from '../api/types';
import { CodeEditor } from '../editor/code-editor';
import { Badge, ErrorBanner, FieldError, formatMs, isFieldError, json, Pre } from '../ui/components';
import { sampleEvent } from './sample-events';

/** Runs the draft (unsaved) script with an editable sample event: result, error with stack, console output, duration. */
export function TestPanel({ fn, draft }: { fn: ChatFunction; draft: string }) {
  const [event, setEvent] = useState(() => sampleEvent(fn.type));
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<TestRunResult>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    setEvent(sampleEvent(fn.type));
    setResult(undefined);
  }, [fn.type]);

  const run = async () => {
    setError(undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(event);
    } catch (e) {
      setError(new ApiError(400, 'InvalidRequestError', `event: not valid JSON (${(e as Error).message})`));
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      setError(new ApiError(400, 'InvalidRequestError', 'event: must be a JSON object'));
      return;
    }
    setRunning(true);
    try {
      setResult(await api.test(fn.id, parsed, draft));
    } catch (e) {
      setResult(undefined);
      setError(e);
    } finally {
      setRunning(false);
    }
  };

  return (
    <div className="test-panel" data-testid="test-panel">
      <div className="row-between">
        <label className="label">Sample event <span className="muted small">({fn.type})</span></label>
        <button className="btn btn-link small" onClick={() => setEvent(sampleEvent(fn.type))}>Reset sample</button>
      </div>
      <CodeEditor value={event} onChange={setEvent} language="json" path={`file:///functions/${fn.id}/event.json`} height={200} testId="event-editor" onSave={run} />
      <FieldError error={error} field={/^event/} testId="event-error" />
      <FieldError error={error} field="script" testId="script-error" />
      <div className="row-between mt">
        <span className="muted small">Runs the editor's draft without deploying it.</span>
        <button className="btn btn-secondary" onClick={run} disabled={running} data-testid="run-test">
          {running ? 'Running…' : 'Run test'}
        </button>
      </div>
      {!isFieldError(error, [/^event/, 'script']) && <ErrorBanner error={error} testId="test-error" />}
      {result && (
        <div className="test-result" data-testid="test-result">
          <div className="kv">
            <Badge tone={result.error ? 'red' : 'green'} testId="test-outcome">
              {result.error ? 'Failed' : 'Succeeded'}
            </Badge>
            <span className="mono small" data-testid="test-duration">{formatMs(result.duration_ms)}</span>
            {result.timed_out && <Badge tone="amber">Timed out</Badge>}
          </div>
          {result.error ? (
            <>
              <h4>Error</h4>
              <Pre tone="error" testId="test-error-stack">{result.error.stack ?? `${result.error.name}: ${result.error.message}`}</Pre>
            </>
          ) : (
            <>
              <h4>Returned value</h4>
              <Pre testId="test-return">{json(result.result)}</Pre>
            </>
          )}
          <h4>Console output</h4>
          <Pre testId="test-logs">{result.logs || <span className="muted">(nothing logged)</span>}</Pre>
        </div>
      )}
    </div>
  );
}
