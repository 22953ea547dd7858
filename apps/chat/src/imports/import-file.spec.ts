import { ApiException } from '@chatfn/platform';
import { parseImportFile } from './import-file';

const upload = (text: string) => ({ fieldname: 'file', originalname: 'x.json', mimetype: 'application/json', size: text.length, buffer: Buffer.from(text) });

function rejection(text: string | undefined): ApiException {
  try {
    parseImportFile(text === undefined ? undefined : upload(text));
  } catch (e) {
    return e as ApiException;
  }
  throw new Error('expected a 400');
}

describe('parseImportFile', () => {
  it('accepts a JSON array of objects', () => {
    expect(parseImportFile(upload('[{"a":1},{"b":2}]'))).toEqual([{ a: 1 }, { b: 2 }]);
    expect(parseImportFile(upload('[]'))).toEqual([]);
  });

  it.each([
    [undefined, /file: is required/],
    ['[{"a":', /file: is not valid JSON/],
    ['{"a":1}', /file: must be a JSON array/],
    ['[{"a":1}, 7]', /file: item 1 must be a JSON object, got number/],
    ['[null]', /file: item 0 must be a JSON object, got null/],
    ['[{}, {}, [1]]', /file: item 2 must be a JSON object, got an array/],
    ['[{"name": "ok"}, {"name": "a\\u0000b"}]', /file: item 1 name: must not contain NUL characters/],
    ['[{"properties": {"k": ["\\ud800"]}}]', /file: item 0 properties\.k\.0: must not contain/],
  ])('answers 400 for %p', (text, message) => {
    const e = rejection(text);
    expect(e.status).toBe(400);
    expect(e.message).toMatch(message);
  });

  it('names the bad item in the error properties', () => {
    expect(rejection('[{}, "x"]').properties).toEqual({ errors: [{ field: 'file[1]', message: 'item 1 must be a JSON object, got string' }] });
  });
});
