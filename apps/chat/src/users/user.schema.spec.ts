import { mergePatch, parseSort, SortError, USER_SORT_COLUMNS } from './user.schema';

describe('user input', () => {
  it('merges properties per RFC 7396', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { a: null, b: { c: 5 }, e: [1] })).toEqual({ b: { c: 5, d: 3 }, e: [1] });
  });

  it('parses sort terms and rejects unknown fields', () => {
    expect(parseSort(['name,desc', 'id'], USER_SORT_COLUMNS)).toEqual([
      { column: 'u.name', dir: 'DESC' },
      { column: 'u.id', dir: 'ASC' },
    ]);
    expect(parseSort('createdTime,asc', USER_SORT_COLUMNS)).toEqual([{ column: 'u.created_time', dir: 'ASC' }]);
    expect(() => parseSort('password', USER_SORT_COLUMNS)).toThrow(SortError);
  });
});
