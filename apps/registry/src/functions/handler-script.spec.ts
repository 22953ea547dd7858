import { compileScript, MAX_SCRIPT_BYTES } from './handler-script';

const opts = { field: 'handler_script', requireHandleEvent: true };

describe('compileScript', () => {
  it('strips TypeScript and turns import into require', () => {
    const { compiled } = compileScript(
      `import _ from 'lodash';\nasync function handleEvent(event: any, context: Context): Promise<string> { return _.upperFirst(event.x); }`,
      opts,
    );
    expect(compiled).toContain('require("lodash")');
    expect(compiled).toContain('async function handleEvent(event, context)');
    expect(compiled).not.toContain(': any');
  });

  it('accepts a handleEvent arrow function and plain JavaScript', () => {
    expect(() => compileScript('const handleEvent = async (e) => e;', opts)).not.toThrow();
    expect(() => compileScript('async function handleEvent(e, c) { return 1 }', opts)).not.toThrow();
  });

  it('reports a syntax error with line and column', () => {
    expect(() => compileScript('async function handleEvent(e) {\n  return {a: 1;\n}', opts)).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/line 2, column \d+/), properties: expect.objectContaining({ line: 2 }) }),
    );
  });

  it('requires handleEvent', () => {
    expect(() => compileScript('function handle(e) {}', opts)).toThrow(/handleEvent/);
    expect(() => compileScript('function handle(e) {}', { ...opts, requireHandleEvent: false })).not.toThrow();
  });

  it('limits the size', () => {
    expect(() => compileScript(`async function handleEvent(){}\n//${'x'.repeat(MAX_SCRIPT_BYTES)}`, opts)).toThrow(/limit/);
  });
});
