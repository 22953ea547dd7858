import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { ChatfnConfig } from '@chatfn/config';
import { MicroBatcher } from '@chatfn/messaging';

type Db = Pick<EntityManager, 'query'>;

/** TypeORM answers `UPDATE ... RETURNING` with `[rows, affectedCount]` on PostgreSQL; INSERT/SELECT with the rows. */
function returning<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

interface SessionStart {
  applicationId: number;
  userId: number;
  userAgent: string | null;
  resumeToken: string;
}

/** How often an instance marks itself alive; a peer silent for 3 × this is dropped and its sessions end. */
export const INSTANCE_HEARTBEAT_MS = 5_000;

/**
 * User sessions (one per WebSocket connection) and chat sessions (a user session "inside" a channel), with the
 * users' presence: a user is online while they have an ACTIVE session. Sessions are tagged with the gateway instance
 * holding them; every instance heartbeats in `gateway_instances` and ends the sessions of peers that stopped
 * heartbeating (and its own leftovers after a restart), so a dropped instance's sessions end.
 */
@Injectable()
export class GatewaySessionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GatewaySessions');
  private timer?: NodeJS.Timeout;
  readonly instanceId: string;
  /** Session starts of concurrent connects go out together: one statement per batch (group commit). */
  private readonly starts = new MicroBatcher<SessionStart, number>((items) => this.startAll(items), { maxBatch: 500, maxConcurrent: 2 });

  constructor(
    private readonly db: DataSource,
    config: ChatfnConfig,
  ) {
    this.instanceId = config.instanceId;
  }

  async onApplicationBootstrap(): Promise<void> {
    // A restarted instance with the same id: its previous sessions are gone.
    await this.endSessionsOf(`id = $1`, [this.instanceId]);
    await this.db.query(
      `INSERT INTO gateway_instances (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET started_time = now(), heartbeat_time = now()`,
      [this.instanceId],
    );
    this.timer = setInterval(() => {
      this.heartbeat().catch((e) => this.logger.warn(`heartbeat failed: ${String(e)}`));
    }, INSTANCE_HEARTBEAT_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // Connections close before this (their sessions end one by one); end whatever is left and leave.
    await this.endSessionsOf(`id = $1`, [this.instanceId]).catch(() => undefined);
    await this.db.query(`DELETE FROM gateway_instances WHERE id = $1`, [this.instanceId]).catch(() => undefined);
  }

  /** Marks this instance alive and ends the sessions of instances silent for 3 heartbeats. */
  async heartbeat(): Promise<number> {
    await this.db.query(
      `INSERT INTO gateway_instances (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET heartbeat_time = now()`,
      [this.instanceId],
    );
    return this.endSessionsOf(`heartbeat_time < now() - make_interval(secs => $1)`, [(3 * INSTANCE_HEARTBEAT_MS) / 1000], true);
  }

  /** Ends the ACTIVE sessions held by the instances matching `where` (over `gateway_instances`). */
  private async endSessionsOf(where: string, args: unknown[], deleteInstances = false): Promise<number> {
    return this.db.transaction(async (tx) => {
      const dead: { id: string }[] = await tx.query(`SELECT id FROM gateway_instances WHERE ${where} FOR UPDATE SKIP LOCKED`, args);
      const ids = dead.map((d) => d.id);
      if (where.startsWith('id =') && !ids.includes(String(args[0]))) ids.push(String(args[0]));
      if (ids.length === 0) return 0;
      const ended = returning<{ user_id: string }>(
        await tx.query(
          `UPDATE user_sessions SET state = 'ENDED', end_time = now()
            WHERE state = 'ACTIVE' AND gateway_instance = ANY($1::text[]) RETURNING id, user_id`,
          [ids],
        ),
      );
      await tx.query(
        `UPDATE chat_sessions SET state = 'ENDED', end_time = now()
          WHERE state = 'ACTIVE' AND user_session_id IN (SELECT id FROM user_sessions WHERE gateway_instance = ANY($1::text[]))`,
        [ids],
      );
      await this.refreshPresence(tx, ended.map((e) => Number(e.user_id)));
      if (deleteInstances) await tx.query(`DELETE FROM gateway_instances WHERE id = ANY($1::text[])`, [ids]);
      if (ended.length) this.logger.log(`ended ${ended.length} session(s) of gateway instance(s) ${ids.join(', ')}`);
      return ended.length;
    });
  }

  /** Starts a user session on this instance; the user becomes online. Batched with concurrent starts. */
  async start(applicationId: number, userId: number, userAgent: string | undefined): Promise<{ id: number; resumeToken: string }> {
    const resumeToken = randomBytes(18).toString('base64url');
    const id = await this.starts.add({ applicationId, userId, userAgent: userAgent?.slice(0, 256) ?? null, resumeToken });
    return { id, resumeToken };
  }

  /**
   * One statement (atomic on its own, so no explicit transaction): the sessions' rows and their users' presence
   * (online, AVAILABLE: what `refreshPresence` gives a user with an ACTIVE session). Rows are matched back to the
   * items by their resume tokens (random, unique).
   */
  private async startAll(items: SessionStart[]): Promise<number[]> {
    const rows: { id: string; resume_token: string }[] = await this.db.query(
      `WITH s AS (
         INSERT INTO user_sessions (application_id, user_id, user_agent, gateway_instance, resume_token)
         SELECT a, u, ua, $4, t FROM unnest($1::bigint[], $2::bigint[], $3::text[], $5::text[]) AS x(a, u, ua, t)
         RETURNING id, user_id, resume_token
       ), p AS (
         UPDATE users SET presence_online = true, presence_status = 'AVAILABLE'
          WHERE id IN (SELECT user_id FROM s) AND (presence_online IS DISTINCT FROM true OR presence_status IS DISTINCT FROM 'AVAILABLE')
       )
       SELECT id, resume_token FROM s`,
      [items.map((i) => i.applicationId), items.map((i) => i.userId), items.map((i) => i.userAgent), this.instanceId, items.map((i) => i.resumeToken)],
    );
    const ids = new Map(rows.map((r) => [r.resume_token, Number(r.id)]));
    return items.map((i) => ids.get(i.resumeToken)!);
  }

  /**
   * Resumes the session with this resume token (a reconnect of the same user within `maxAgeMs` of its end): it
   * becomes ACTIVE on this instance again without re-running the start_session function. Undefined otherwise.
   */
  async resume(applicationId: number, username: string, resumeToken: string, maxAgeMs: number): Promise<{ id: number; userId: number } | undefined> {
    return this.db.transaction(async (tx) => {
      const rows = returning<{ id: string; user_id: string }>(await tx.query(
        `UPDATE user_sessions s SET state = 'ACTIVE', end_time = NULL, gateway_instance = $4
           FROM users u
          WHERE s.resume_token = $1 AND s.application_id = $2 AND u.id = s.user_id AND u.name = $3 AND u.deleted_time IS NULL
            AND (s.state = 'ACTIVE' OR s.end_time > now() - make_interval(secs => $5))
         RETURNING s.id, s.user_id`,
        [resumeToken, applicationId, username, this.instanceId, maxAgeMs / 1000],
      ));
      if (!rows[0]) return undefined;
      await this.refreshPresence(tx, [Number(rows[0].user_id)]);
      return { id: Number(rows[0].id), userId: Number(rows[0].user_id) };
    });
  }

  /** Ends a user session and its chat sessions; the user goes offline when it was their last session. */
  async end(userSessionId: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = returning<{ user_id: string }>(
        await tx.query(
          `UPDATE user_sessions SET state = 'ENDED', end_time = now() WHERE id = $1 AND state = 'ACTIVE' RETURNING user_id`,
          [userSessionId],
        ),
      );
      await tx.query(`UPDATE chat_sessions SET state = 'ENDED', end_time = now() WHERE user_session_id = $1 AND state = 'ACTIVE'`, [userSessionId]);
      await this.refreshPresence(tx, rows.map((r) => Number(r.user_id)));
    });
  }

  /** Starts a chat session (idempotent per user session and channel). Returns true when it is new. */
  async startChat(db: Db, applicationId: number, userSessionId: number, userId: number, channelId: number): Promise<boolean> {
    const rows: unknown[] = await db.query(
      `INSERT INTO chat_sessions (application_id, user_session_id, user_id, channel_id)
       SELECT $1, $2, $3, $4
        WHERE NOT EXISTS (SELECT 1 FROM chat_sessions WHERE user_session_id = $2 AND channel_id = $4 AND state = 'ACTIVE')
       RETURNING id`,
      [applicationId, userSessionId, userId, channelId],
    );
    return rows.length > 0;
  }

  async endChat(userSessionId: number, channelId: number): Promise<void> {
    await this.db.query(
      `UPDATE chat_sessions SET state = 'ENDED', end_time = now() WHERE user_session_id = $1 AND channel_id = $2 AND state = 'ACTIVE'`,
      [userSessionId, channelId],
    );
  }

  private async refreshPresence(db: Db, userIds: number[]): Promise<void> {
    if (userIds.length === 0) return;
    await db.query(
      `UPDATE users u SET presence_online = x.online, presence_status = CASE WHEN x.online THEN 'AVAILABLE' ELSE 'UNAVAILABLE' END
         FROM (SELECT id, EXISTS (SELECT 1 FROM user_sessions s WHERE s.user_id = users.id AND s.state = 'ACTIVE') AS online
                 FROM users WHERE id = ANY($1::bigint[])) x
        WHERE u.id = x.id`,
      [[...new Set(userIds)]],
    );
  }
}
