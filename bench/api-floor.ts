/**
 * The floor of `bench:api`'s send row on this machine: what any server that stores the same rows per message costs,
 * without chatfn. A bare `node:http` server (no framework, no validation, no auth, no membership check, no hook)
 * answers `POST /floor/{channel}` with a 201 and a message body of the same size as chatfn's, after storing per
 * message the same rows in tables with chatfn's own columns and indexes (`LIKE ... INCLUDING ALL`, in a schema of
 * its own, without foreign keys): the message, 2 notifications, 3 events of ~1.4 KB (built and serialised by node,
 * as chatfn does) and their 3 outbox rows. Group commit as in chatfn, but tighter: one statement per batch (an
 * implicit transaction, no BEGIN/COMMIT round trips and no separate context query), and a relay that deletes
 * what was written, one statement per batch.
 *
 * Whatever this reaches is more than chatfn can: it does a strict subset of chatfn's work per message.
 */
import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';

const SCHEMA = `floor_${randomBytes(3).toString('hex')}`;

const STORE_SQL = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(idx int, channel bigint, body text, created timestamptz, sent jsonb, note jsonb)
  ), ids AS (
    SELECT idx, nextval(pg_get_serial_sequence('${SCHEMA}.messages', 'id')) AS id FROM (SELECT idx FROM input ORDER BY idx) x
  ), m AS (
    INSERT INTO ${SCHEMA}.messages (id, application_id, channel_id, type, user_id, body, properties, nested_level, created_time)
    OVERRIDING SYSTEM VALUE
    SELECT ids.id, 1, channel, 'TEXT', 1, body, '{}'::jsonb, 0, created FROM input JOIN ids USING (idx) ORDER BY idx
  ), mi AS (
    SELECT i.*, ids.id FROM input i JOIN ids USING (idx)
  ), n AS (
    INSERT INTO ${SCHEMA}.notifications (application_id, user_id, channel_id, title, body, data)
    SELECT 1, r.u, mi.channel, 'A sent a message', mi.body, jsonb_build_object('type', 'USER:SENT:MESSAGE', 'message', jsonb_build_object('id', mi.id))
      FROM mi CROSS JOIN (VALUES (2), (3)) AS r(u) ORDER BY mi.idx, r.u
    RETURNING id, user_id, (data->'message'->>'id')::bigint AS message_id
  ), ev AS (
    SELECT mi.idx, 0 AS k, 'chat-channel-' || mi.channel AS s, 'user.sent.message' AS type, jsonb_set(mi.sent, '{data,message,id}', to_jsonb(mi.id)) AS data
      FROM mi
    UNION ALL
    SELECT mi.idx, n.user_id, 'chat-channel-' || mi.channel, 'user.received.notification',
           jsonb_set(jsonb_set(mi.note, '{data,notification,id}', to_jsonb(n.id)), '{userId}', to_jsonb(n.user_id))
      FROM mi JOIN n ON n.message_id = mi.id
  ), numbered AS (
    SELECT ev.*, (SELECT coalesce(max(version), 0) FROM ${SCHEMA}.events WHERE stream_id = ev.s)
                 + row_number() OVER (PARTITION BY ev.s ORDER BY ev.idx, ev.k) AS version
      FROM ev
  ), e AS (
    INSERT INTO ${SCHEMA}.events (stream_id, version, type, data, metadata)
    SELECT s, version, type, data, jsonb_build_object('eventId', gen_random_uuid()) FROM numbered ORDER BY idx, k
    RETURNING stream_id, data
  ), o AS (
    INSERT INTO ${SCHEMA}.outbox (topic, key, envelope)
    SELECT 'chat.event.recorded.v1', e.stream_id,
           jsonb_build_object('topic', 'chat.event.recorded.v1', 'key', e.stream_id, 'eventId', gen_random_uuid(), 'payload', e.data)
      FROM e
  )
  SELECT idx, id FROM mi ORDER BY idx`;

interface Pending {
  channel: number;
  body: string;
  res: ServerResponse;
}

/** The user and channel resources chatfn puts in each event (same shapes, same sizes). */
const user = (id: number) => ({
  id,
  type: 'PERSON',
  name: `u${id}`,
  display_name: `U${id}`,
  display_picture_url: `https://api.dicebear.com/7.x/initials/svg?seed=u${id}`,
  isGuest: false,
  presence: { online: false, status: 'UNAVAILABLE' },
  properties: {},
});

export interface FloorServer {
  port: number;
  /** Rows stored so far: what the bench checks, so the floor cannot look fast by storing less. */
  counts(): Promise<{ messages: number; notifications: number; events: number; outbox: number }>;
  close(): Promise<void>;
}

/** Starts the floor server on `databaseUrl` (chatfn's migrations must have run there: the tables are copied). */
export async function startFloorServer(databaseUrl: string): Promise<FloorServer> {
  const writer = new Client({ connectionString: databaseUrl });
  const relay = new Client({ connectionString: databaseUrl });
  await Promise.all([writer.connect(), relay.connect()]);
  await writer.query(`CREATE SCHEMA ${SCHEMA}`);
  for (const t of ['messages', 'notifications', 'events', 'outbox']) {
    await writer.query(`CREATE TABLE ${SCHEMA}.${t} (LIKE public.${t} INCLUDING ALL)`);
  }

  let queue: Pending[] = [];
  let writing = false;
  let relaying = false;
  let relayAgain = false;

  const runRelay = async (): Promise<void> => {
    if (relaying) {
      relayAgain = true;
      return;
    }
    relaying = true;
    do {
      relayAgain = false;
      // What chatfn's relay does per batch: take the rows written, hand their envelopes on (parsed here), delete them.
      await relay.query(`DELETE FROM ${SCHEMA}.outbox WHERE id IN (SELECT id FROM ${SCHEMA}.outbox ORDER BY id LIMIT 512) RETURNING envelope`);
    } while (relayAgain);
    relaying = false;
  };

  const write = async (): Promise<void> => {
    if (writing || queue.length === 0) return;
    writing = true;
    const batch = queue.slice(0, 128);
    queue = queue.slice(batch.length);
    const created = new Date().toISOString();
    const input = batch.map((p, idx) => {
      const channel = { id: p.channel, type: 'PUBLIC', created_time: created, properties: {}, name: `bench${p.channel}`, display_name: `bench${p.channel}` };
      const message = { id: 0, type: 'TEXT', channel_id: p.channel, created_time: created, nested_level: 0, properties: {}, replies_count: 0, body: p.body, mentions: [] };
      const base = { applicationId: 1, channelId: p.channel, depth: 0 };
      return {
        idx,
        channel: p.channel,
        body: p.body,
        created,
        sent: { ...base, type: 'user.sent.message', userId: 1, data: { user: user(1), channel: { ...channel, last_received_message: message }, message: { ...message, user: user(1) } } },
        note: {
          ...base,
          type: 'user.received.notification',
          userId: 0,
          data: {
            user: user(2),
            notification: { id: 0, title: 'U1 sent a message', body: p.body, channel: { ...channel, last_received_message: message }, data: { type: 'USER:SENT:MESSAGE', channel_id: p.channel, message: { ...message, user: user(1) } }, muted: false, created_time: created },
            userHasActiveSession: false,
          },
        },
      };
    });
    try {
      const { rows } = await writer.query({ name: 'floor_store', text: STORE_SQL, values: [JSON.stringify(input)] });
      const ids = new Map<number, string>(rows.map((r: { idx: number; id: string }) => [r.idx, r.id]));
      for (const [idx, p] of batch.entries()) {
        const body = JSON.stringify({
          id: Number(ids.get(idx)),
          type: 'TEXT',
          channel_id: p.channel,
          created_time: created,
          nested_level: 0,
          properties: {},
          replies_count: 0,
          body: p.body,
          mentions: [],
          user: user(1),
          _links: { self: { href: `http://localhost/v1/messages/${ids.get(idx)}` }, channel: { href: `http://localhost/v1/channels/${p.channel}` } },
        });
        p.res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      }
      void runRelay();
    } catch (e) {
      for (const p of batch) p.res.writeHead(500).end(String(e));
    }
    writing = false;
    void write();
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const channel = Number(req.url?.split('/')[2]);
      const { body } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { body: string };
      queue.push({ channel, body, res });
      void write();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    counts: async () => {
      const { rows } = await relay.query(
        `SELECT (SELECT count(*) FROM ${SCHEMA}.messages)::int AS messages, (SELECT count(*) FROM ${SCHEMA}.notifications)::int AS notifications,
                (SELECT count(*) FROM ${SCHEMA}.events)::int AS events, (SELECT count(*) FROM ${SCHEMA}.outbox)::int AS outbox`,
      );
      return rows[0];
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await writer.query(`DROP SCHEMA ${SCHEMA} CASCADE`).catch(() => undefined);
      await Promise.all([writer.end(), relay.end()]);
    },
  };
}
