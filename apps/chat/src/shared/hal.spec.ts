import { cursorModel, pagedModel, selfLinks } from './hal';

describe('HAL rendering', () => {
  it('renders a page with api.ts field names and navigation links', () => {
    const m = pagedModel('users', [{ id: 3 }], { page: 1, size: 2 }, 5, 'http://h/v1/users?page=1&size=2&name=x');
    expect(m._embedded).toEqual({ users: [{ id: 3 }] });
    expect(m.page).toEqual({ size: 2, total_elements: 5, total_pages: 3, number: 1 });
    expect(m._links.self.href).toBe('http://h/v1/users?page=1&size=2&name=x');
    expect(m._links.first.href).toBe('http://h/v1/users?page=0&size=2&name=x');
    expect(m._links.prev.href).toBe('http://h/v1/users?page=0&size=2&name=x');
    expect(m._links.next.href).toBe('http://h/v1/users?page=2&size=2&name=x');
    expect(m._links.last.href).toBe('http://h/v1/users?page=2&size=2&name=x');
  });

  it('renders an empty page without navigation links', () => {
    const m = pagedModel('jobs', [], { page: 0, size: 25 }, 0, 'http://h/v1/jobs');
    expect(m.page).toEqual({ size: 25, total_elements: 0, total_pages: 0, number: 0 });
    expect(Object.keys(m._links)).toEqual(['self']);
    expect(m._embedded.jobs).toEqual([]);
  });

  it('renders a cursor page with start/next cursors in the links', () => {
    const m = cursorModel('messages', [{ id: 9 }], { size: 1, total: 4, start: 10, next: 9, prev: 11 }, 'http://h/v1/messages?size=1');
    expect(m.page).toEqual({ size: 1, total: 4, start: '10', next: '9' });
    const next = new URL(m._links.next.href);
    expect(next.searchParams.get('start')).toBe('10');
    expect(next.searchParams.get('next')).toBe('9');
    expect(new URL(m._links.prev.href).searchParams.get('relation')).toBe('PREVIOUS');
  });

  it('builds absolute self links from a base', () => {
    expect(selfLinks('http://h/v1/', '/users/1')).toEqual({ self: { href: 'http://h/v1/users/1' } });
  });
});
