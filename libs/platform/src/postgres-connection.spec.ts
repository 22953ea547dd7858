import { postgresConnection } from './postgres-connection';

describe('postgresConnection', () => {
  it('passes a TCP URL through', () => {
    expect(postgresConnection('postgres://u:p@db:5433/chat')).toEqual({ url: 'postgres://u:p@db:5433/chat' });
  });

  it("turns libpq's ?host=/dir into the socket directory and the URL's other fields", () => {
    expect(postgresConnection('postgres://chat%40x:p%2Fw@localhost:5444/chat%20db?host=%2Fvar%2Frun%2Fpg')).toEqual({
      host: '/var/run/pg',
      port: 5444,
      username: 'chat@x',
      password: 'p/w',
      database: 'chat db',
    });
  });

  it('keeps a URL whose host parameter is not a directory, and one it cannot parse', () => {
    expect(postgresConnection('postgres://u:p@db/chat?host=other')).toEqual({ url: 'postgres://u:p@db/chat?host=other' });
    expect(postgresConnection('not a url')).toEqual({ url: 'not a url' });
  });
});
