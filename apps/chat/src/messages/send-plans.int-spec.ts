import { DataSource, QueryRunner } from 'typeorm';
import { createTestDatabase } from '@chatfn/testing';
import { CHAT_MIGRATIONS } from '../chat.migrations';
import { CHANNEL_COLUMNS, channelRes, messageRes, userRes } from '../channels/resources';
import { NotificationsService } from '../notifications/notifications.service';
import { parseMentions } from './mentions';
import { CONTEXT_SQL, contextParam, SEND_SQL, sendParam } from './message-writer';

/**
 * The statements run on every message send are prepared, so PostgreSQL ends up running them with a generic plan: one
 * that cannot know a batch has one message. A generic plan that joins the batch to a table instead of probing it by
 * key reads (and usually hashes) the whole table on every send — all members, users or active sessions of the
 * database — which test databases are too small to notice. These tests plan the statements generically on a database
 * big enough for a whole-table read to cost something, and fail on any such read of a table that grows with use.
 */

/** Tables that grow with use: the send statements may read them only by key. */
const BIG_TABLES = new Set([
  'users',
  'user_sessions',
  'chat_sessions',
  'channels',
  'channel_members',
  'channel_invites',
  'messages',
  'message_read_receipts',
  'notifications',
]);

/**
 * Application 1: 5,000 users, 300 group channels (one with every user, the others 20 to 100 members) and 100 direct
 * channels, 30,000 messages (3,000 of them thread replies), 30,000 notifications, 8,000 user sessions and 6,000 chat
 * sessions (a third and a quarter of them ACTIVE); application 2: 500 users and 20 channels of their own.
 */
const SEED_SQL = `
  INSERT INTO applications (name, client_id, client_secret_hash, api_key)
  SELECT 'app-' || a, 'client-' || a, 'hash', 'key-' || a FROM generate_series(1, 2) a;

  INSERT INTO users (application_id, name, display_name, presence_online)
  SELECT CASE WHEN u <= 5000 THEN 1 ELSE 2 END, 'user-' || u, 'User ' || u, u % 5 = 0 FROM generate_series(1, 5500) u;

  INSERT INTO user_sessions (application_id, user_id, state, user_agent)
  SELECT CASE WHEN u <= 5000 THEN 1 ELSE 2 END, u, CASE WHEN s % 3 = 0 THEN 'ACTIVE' ELSE 'ENDED' END, 'agent'
    FROM generate_series(1, 8000) s, LATERAL (SELECT 1 + s * 37 % 5500 AS u) x;

  INSERT INTO channels (application_id, type, name, display_name, creator_id)
  SELECT 1, CASE WHEN c % 10 = 0 THEN 'PRIVATE' ELSE 'PUBLIC' END, 'channel-' || c, 'Channel ' || c, 1 + c * 7 % 5000
    FROM generate_series(1, 300) c;
  INSERT INTO channels (application_id, type, direct_key)
  SELECT 1, 'DIRECT', d || ':' || d + 1 FROM generate_series(1, 100) d;
  INSERT INTO channels (application_id, type, name, creator_id)
  SELECT 2, 'PUBLIC', 'other-' || c, 5001 FROM generate_series(1, 20) c;

  INSERT INTO channel_members (channel_id, user_id, application_id)
  SELECT 1, u, 1 FROM generate_series(1, 5000) u;
  INSERT INTO channel_members (channel_id, user_id, application_id)
  SELECT c, 1 + (c * 131 + k * 37) % 5000, 1 FROM generate_series(2, 300) c, generate_series(0, 19 + c % 80) k;
  INSERT INTO channel_members (channel_id, user_id, application_id)
  SELECT 300 + d, d + k, 1 FROM generate_series(1, 100) d, generate_series(0, 1) k;
  INSERT INTO channel_members (channel_id, user_id, application_id)
  SELECT 400 + c, 5001 + (c * 13 + k) % 500, 2 FROM generate_series(1, 20) c, generate_series(0, 49) k;

  INSERT INTO chat_sessions (application_id, user_session_id, user_id, channel_id, state)
  SELECT 1, 1 + s % 8000, 1 + (c * 131 + s % 20 * 37) % 5000, c, CASE WHEN s % 4 = 0 THEN 'ACTIVE' ELSE 'ENDED' END
    FROM generate_series(1, 6000) s, LATERAL (SELECT 1 + s % 300 AS c) x;

  INSERT INTO messages (application_id, channel_id, type, user_id, body, mentions)
  SELECT 1, 1 + s % 400, 'TEXT', 1 + s * 7 % 5000, 'message ' || s, '[]'::jsonb FROM generate_series(1, 30000) s;
  INSERT INTO messages (application_id, channel_id, type, user_id, body, mentions, parent_id, nested_level)
  SELECT 1, 1 + p % 400, 'TEXT', 1 + s * 11 % 5000, 'reply ' || s, '[]'::jsonb, p, 1
    FROM generate_series(1, 3000) s, LATERAL (SELECT 1 + s * 3 % 30000 AS p) x;

  INSERT INTO notifications (application_id, user_id, channel_id, title, body, data)
  SELECT 1, 1 + s * 13 % 5000, 1 + s % 400, 'title', 'body', jsonb_build_object('type', 'USER:SENT:MESSAGE')
    FROM generate_series(1, 30000) s;
`;

describe('message send statements: generic plans (PostgreSQL)', () => {
  let db: { url: string; drop(): Promise<void> };
  let ds: DataSource;
  /** One connection: prepared statements and planner settings are per session. */
  let session: QueryRunner;

  beforeAll(async () => {
    db = await createTestDatabase('send_plans');
    ds = new DataSource({ type: 'postgres', url: db.url, migrations: CHAT_MIGRATIONS, poolSize: 2 });
    await ds.initialize();
    await ds.runMigrations();
    await ds.query(SEED_SQL);
    await ds.query(`ANALYZE`);
    session = ds.createQueryRunner();
    await session.connect();
  });
  afterAll(async () => {
    await session?.release();
    await ds?.destroy();
    await db?.drop();
  });

  /** Runs `work` on the session with the planner settings `settings`, then resets them. */
  async function withSettings<T>(settings: Record<string, string>, work: () => Promise<T>): Promise<T> {
    for (const [k, v] of Object.entries(settings)) await session.query(`SET ${k} = ${v}`);
    try {
      return await work();
    } finally {
      for (const k of Object.keys(settings)) await session.query(`RESET ${k}`);
    }
  }

  /**
   * The plan PostgreSQL runs `sql` with once it is prepared and generic (prepared as `preparedQuery` prepares it: one
   * parameter, its type inferred from `$1::jsonb`), with `param` as $1 and the planner settings `settings`.
   */
  async function genericPlan(sql: string, param: string, settings: Record<string, string> = {}): Promise<Plan> {
    const name = 'send_plans_probe';
    return withSettings({ plan_cache_mode: 'force_generic_plan', ...settings }, async () => {
      await session.query(`PREPARE ${name} AS ${sql}`);
      try {
        const [row] = await session.query(`EXPLAIN (FORMAT JSON) EXECUTE ${name}(${literal(param)})`);
        const [counts] = await session.query(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1`, [name]);
        expect(counts).toEqual({ generic_plans: '1', custom_plans: '0' });
        return (row['QUERY PLAN'] as { Plan: Plan }[])[0].Plan;
      } finally {
        await session.query(`DEALLOCATE ${name}`);
      }
    });
  }

  /** A member of a group channel sends it a text mentioning another user, built as `MessagesService.send` builds it. */
  async function oneMessage() {
    const [row] = await ds.query(`SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.id = 5`);
    const [senderRow, mentionedRow] = await ds.query(
      `SELECT u.* FROM channel_members cm JOIN users u ON u.id = cm.user_id WHERE cm.channel_id = 5 ORDER BY u.id LIMIT 2`,
    );
    const channel = channelRes(row);
    const sender = userRes(senderRow);
    const mentioned = userRes(mentionedRow);
    const body = `hi <@${mentioned.name}>`;
    const mentions = parseMentions(body).map(({ name: _name, ...t }) => ({ ...t, user: mentioned }));
    const message = messageRes({
      id: 0,
      type: 'TEXT',
      channel_id: channel.id,
      created_time: new Date(),
      nested_level: 0,
      properties: {},
      replies_count: 0,
      body,
      file: null,
      group_tag: null,
      mentions,
      parent_id: null,
    });
    message.user = sender;
    return {
      context: contextParam([{ app: 1, channel: channel.id, uid: sender.id, uname: null }]),
      send: sendParam(
        [{ applicationId: 1, channel: { ...channel }, message, sender, mentionedUserIds: [mentioned.id], depth: 0 }],
        new NotificationsService(),
      ),
    };
  }

  it('looks up the channel and sender of a send (CONTEXT_SQL) by key only', async () => {
    const { context } = await oneMessage();
    expectKeyReadsOnly('CONTEXT_SQL (chatfn_chat_send_context)', await genericPlan(CONTEXT_SQL, context));
  });

  it('stores a message and its notifications (SEND_SQL) reading other tables by key only', async () => {
    const { send } = await oneMessage();
    expectKeyReadsOnly('SEND_SQL (chatfn_chat_send_messages)', await genericPlan(SEND_SQL, send));
  });

  it('reports every whole-table read of a plan, with its node, table and path', async () => {
    const { context, send } = await oneMessage();
    const noIndexes = { enable_indexscan: 'off', enable_indexonlyscan: 'off', enable_bitmapscan: 'off' };

    const sendPlan = await genericPlan(SEND_SQL, send, noIndexes);
    expect(wholeTableReads(sendPlan).map((r) => `${r.node} on ${r.table}`)).toEqual(
      expect.arrayContaining(['Seq Scan on channel_members', 'Seq Scan on chat_sessions', 'Seq Scan on users', 'Seq Scan on user_sessions']),
    );
    expect(() => expectKeyReadsOnly('SEND_SQL', sendPlan)).toThrow(
      /^SEND_SQL reads whole tables in its generic plan[^]*\n {2}Seq Scan on users\b[^]*\n {4}path: Sort > [^]*\nplan:\nSort/,
    );
    const contextReads = wholeTableReads(await genericPlan(CONTEXT_SQL, context, noIndexes));
    expect(contextReads.map((r) => r.table)).toEqual(expect.arrayContaining(['channels', 'users', 'channel_members', 'messages']));

    // Every active user session of an application is no key either, even read through an index.
    const [{ 'QUERY PLAN': [constants] }] = await withSettings({ enable_seqscan: 'off' }, () =>
      session.query(`EXPLAIN (FORMAT JSON) SELECT id FROM user_sessions WHERE application_id = 1 AND state = 'ACTIVE'`),
    );
    expect(wholeTableReads(constants.Plan)).toEqual([
      expect.objectContaining({ table: 'user_sessions', why: expect.stringMatching(/^reads every row matching constants/) }),
    ]);
    // A read by the statement's parameter is a probe.
    expect(wholeTableReads(await genericPlan(`SELECT * FROM users WHERE id = ($1::jsonb ->> 'id')::bigint`, '{"id": 3}'))).toEqual([]);
  });
});

type Plan = Record<string, unknown> & { 'Node Type': string; Plans?: Plan[] };

/** A read of a big table that does not depend on the batch, so its cost grows with the table. */
interface WholeTableRead {
  node: string;
  table: string;
  why: string;
  /** under a Hash: the whole read is also built into a hash table */
  hashed: boolean;
  /** from the plan's root, e.g. `Sort > SubPlan 3: Aggregate > Hash Join > Seq Scan on users u_3` */
  path: string;
}

const SCANS = new Set(['Seq Scan', 'Index Scan', 'Index Only Scan', 'Bitmap Heap Scan']);

/** Every scan of a `BIG_TABLES` table in `plan` that reads it by no key, or by constants only. */
function wholeTableReads(plan: Plan, path: string[] = []): WholeTableRead[] {
  const here = [...path, step(plan)];
  const table = plan['Relation Name'];
  const why = typeof table === 'string' && BIG_TABLES.has(table) && SCANS.has(plan['Node Type']) ? unkeyed(plan) : undefined;
  const found: WholeTableRead[] = why
    ? [{ node: plan['Node Type'], table: table as string, why, hashed: path.some((s) => s.endsWith('Hash')), path: here.join(' > ') }]
    : [];
  for (const child of plan.Plans ?? []) found.push(...wholeTableReads(child, here));
  return found;
}

/** Why a scan reads its whole table (or every row matching constants), or undefined if it is a probe by key. */
function unkeyed(scan: Plan): string | undefined {
  if (scan['Node Type'] === 'Seq Scan') return 'reads every row';
  const cond = (scan['Index Cond'] ?? scan['Recheck Cond']) as string | undefined;
  if (!cond) return `walks all of ${String(scan['Index Name'])}`;
  return fromBatch(cond) ? undefined : `reads every row matching constants: ${cond}`;
}

/**
 * Whether a scan condition compares with a value of the batch: another relation's column (`q.app`, `"*SELECT* 1".id`:
 * EXPLAIN prints the scanned table's own columns unqualified), a parameter (`$1`) or a sub-plan's result.
 */
function fromBatch(cond: string): boolean {
  const code = cond.replace(/'(?:[^']|'')*'/g, "''");
  return /(?<![\w.])(?:[A-Za-z_]\w*|"[^"]*")\.[A-Za-z_"]|\$\d|\b(?:InitPlan|SubPlan) \d/.test(code);
}

/** A node as the path and the rendered plan show it: `SubPlan 3: Seq Scan on users u_3`, `CTE Scan on input i_1`. */
function step(p: Plan): string {
  const sub = p['Subplan Name'] ? `${String(p['Subplan Name'])}: ` : '';
  const source = (p['Relation Name'] ?? p['CTE Name'] ?? p['Function Name']) as string | undefined;
  const alias = p.Alias && p.Alias !== source ? ` ${String(p.Alias)}` : '';
  return `${sub}${p['Node Type']}${source ? ` on ${source}${alias}` : ''}`;
}

/** Fails naming each whole-table read (node, table, why, path) and printing the plan. */
function expectKeyReadsOnly(statement: string, plan: Plan): void {
  const reads = wholeTableReads(plan);
  if (reads.length === 0) return;
  throw new Error(
    [
      `${statement} reads whole tables in its generic plan (it should probe them by key):`,
      ...reads.map((r) => `  ${r.node} on ${r.table}${r.hashed ? ' (hashed)' : ''}: ${r.why}\n    path: ${r.path}`),
      'plan:',
      render(plan),
    ].join('\n'),
  );
}

/** The plan as an indented tree of nodes with their tables, indexes and conditions. */
function render(p: Plan, depth = 0): string {
  const keys = ['Index Name', 'Index Cond', 'Recheck Cond', 'Hash Cond', 'Join Filter', 'Filter'];
  const attrs = keys.filter((k) => p[k] !== undefined).map((k) => `  ${k}: ${String(p[k])}`);
  const line = `${'  '.repeat(depth)}${step(p)}${attrs.join('')}`;
  return [line, ...(p.Plans ?? []).map((c) => render(c, depth + 1))].join('\n');
}

/** A SQL string literal (standard_conforming_strings is on). */
function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
