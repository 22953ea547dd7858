import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ApiException } from '@chatfn/platform';
import { ChatEventInput, ChatEventRecorder } from '../shared/chat-event.recorder';
import { affectedRows, CHANNEL_COLUMNS, channelRes, ChannelRes, Json, userRes, UserRes } from './resources';
import { CreateChannelInput, UserRef } from './channels.schema';

type Db = Pick<EntityManager, 'query'>;

export interface ChannelListFilter {
  type?: 'DIRECT' | 'PUBLIC' | 'PRIVATE';
  members?: string[];
  startTime?: string;
  endTime?: string;
  properties?: Record<string, unknown>;
}

export interface Paging {
  page: number;
  size: number;
}

const UNIQUE_VIOLATION = '23505';
const pgCode = (e: unknown) => (e as { driverError?: { code?: string }; code?: string })?.driverError?.code ?? (e as { code?: string })?.code;

/** Channels, their members, moderators and invites. Every change records its chat events in its own transaction. */
@Injectable()
export class ChannelsService {
  constructor(
    private readonly db: DataSource,
    private readonly recorder: ChatEventRecorder,
  ) {}

  // ---- reads ----------------------------------------------------------------------------------------------------

  /** The channel's row (with creator, last message and members), or a 404 for an unknown or other app's id. */
  async row(applicationId: number, id: number, db: Db = this.db): Promise<Json> {
    const rows: Json[] = await db.query(
      `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.id = $1 AND c.application_id = $2`,
      [id, applicationId],
    );
    if (!rows[0]) throw ApiException.notFound('Channel', id);
    return rows[0];
  }

  async get(applicationId: number, id: number, db: Db = this.db): Promise<ChannelRes> {
    return channelRes(await this.row(applicationId, id, db));
  }

  /**
   * Locks the channel row first thing in a transaction that will append to the channel's event stream, so that every
   * such transaction takes the row before the stream: `FOR UPDATE` to delete it, `FOR KEY SHARE` for changes below it.
   * In the other order a delete racing an update deadlocked (each held what the other wanted next: the row, and the
   * stream's next version). 404 for an unknown channel.
   */
  async lock(tx: Db, applicationId: number, id: number, mode: 'UPDATE' | 'KEY SHARE'): Promise<void> {
    const rows: unknown[] = await tx.query(`SELECT 1 FROM channels WHERE id = $1 AND application_id = $2 FOR ${mode}`, [id, applicationId]);
    if (rows.length === 0) throw ApiException.notFound('Channel', id);
  }

  async list(applicationId: number, f: ChannelListFilter, paging: Paging): Promise<{ items: ChannelRes[]; total: number }> {
    const where = ['c.application_id = $1'];
    const args: unknown[] = [applicationId];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (f.type) where.push(`c.type = ${arg(f.type)}`);
    if (f.startTime) where.push(`c.created_time >= ${arg(f.startTime)}`);
    if (f.endTime) where.push(`c.created_time <= ${arg(f.endTime)}`);
    if (f.properties) where.push(`c.properties @> ${arg(JSON.stringify(f.properties))}::jsonb`);
    if (f.members?.length) {
      where.push(`(SELECT count(DISTINCT u.name) FROM channel_members cm JOIN users u ON u.id = cm.user_id
                   WHERE cm.channel_id = c.id AND u.name = ANY(${arg(f.members)})) = ${arg(new Set(f.members).size)}`);
    }
    const cond = where.join(' AND ');
    const [rows, count] = await Promise.all([
      this.db.query(
        `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE ${cond} ORDER BY c.id LIMIT ${arg(paging.size)} OFFSET ${arg(paging.page * paging.size)}`,
        args,
      ) as Promise<Json[]>,
      this.db.query(`SELECT count(*)::int AS n FROM channels c WHERE ${cond}`, args.slice(0, args.length - 2)) as Promise<{ n: number }[]>,
    ]);
    return { items: rows.map(channelRes), total: count[0].n };
  }

  /** Channels the user is a member of. */
  async listForUser(applicationId: number, userId: number, paging: Paging): Promise<{ items: ChannelRes[]; total: number }> {
    await this.users(applicationId, [{ id: userId }]);
    const [rows, count] = await Promise.all([
      this.db.query(
        `SELECT ${CHANNEL_COLUMNS} FROM channel_members me JOIN channels c ON c.id = me.channel_id
          WHERE me.user_id = $1 AND c.application_id = $2 ORDER BY c.id LIMIT $3 OFFSET $4`,
        [userId, applicationId, paging.size, paging.page * paging.size],
      ) as Promise<Json[]>,
      this.db.query(
        `SELECT count(*)::int AS n FROM channel_members me JOIN channels c ON c.id = me.channel_id
          WHERE me.user_id = $1 AND c.application_id = $2`,
        [userId, applicationId],
      ) as Promise<{ n: number }[]>,
    ]);
    return { items: rows.map(channelRes), total: count[0].n };
  }

  /** Members (or moderators, or online members) of a channel, as users. */
  async listUsers(
    applicationId: number,
    channelId: number,
    which: 'members' | 'moderators' | 'participants',
    paging: Paging,
  ): Promise<{ items: (UserRes & { joinedTime: string })[]; total: number }> {
    await this.row(applicationId, channelId);
    const extra =
      which === 'moderators'
        ? 'AND cm.moderator'
        : which === 'participants'
          ? `AND (u.presence_online OR EXISTS (SELECT 1 FROM user_sessions s WHERE s.user_id = u.id AND s.state = 'ACTIVE'))`
          : '';
    const from = `FROM channel_members cm JOIN users u ON u.id = cm.user_id WHERE cm.channel_id = $1 AND u.deleted_time IS NULL ${extra}`;
    const [rows, count] = await Promise.all([
      this.db.query(`SELECT u.*, cm.created_time AS joined_time ${from} ORDER BY u.id LIMIT $2 OFFSET $3`, [
        channelId,
        paging.size,
        paging.page * paging.size,
      ]) as Promise<Json[]>,
      this.db.query(`SELECT count(*)::int AS n ${from}`, [channelId]) as Promise<{ n: number }[]>,
    ]);
    return {
      items: rows.map((r) => ({ ...userRes(r), joinedTime: new Date(r.joined_time as string).toISOString() })),
      total: count[0].n,
    };
  }

  async listInvites(applicationId: number, channelId: number, paging: Paging): Promise<{ items: Json[]; total: number }> {
    await this.row(applicationId, channelId);
    const [rows, count] = await Promise.all([
      this.db.query(
        `SELECT i.id, i.created_time, to_jsonb(u) AS user FROM channel_invites i JOIN users u ON u.id = i.user_id
          WHERE i.channel_id = $1 ORDER BY i.id LIMIT $2 OFFSET $3`,
        [channelId, paging.size, paging.page * paging.size],
      ) as Promise<Json[]>,
      this.db.query(`SELECT count(*)::int AS n FROM channel_invites WHERE channel_id = $1`, [channelId]) as Promise<{ n: number }[]>,
    ]);
    return {
      items: rows.map((r) => ({ createdTime: new Date(r.created_time as string).toISOString(), user: userRes(r.user as Json) })),
      total: count[0].n,
    };
  }

  /** Resolves user references of the application (404 naming the first missing one). Keeps input order. */
  async users(applicationId: number, refs: UserRef[], db: Db = this.db): Promise<Json[]> {
    if (refs.length === 0) return [];
    const ids = refs.flatMap((r) => ('id' in r ? [r.id] : []));
    const names = refs.flatMap((r) => ('username' in r ? [r.username] : []));
    const rows: Json[] = await db.query(
      `SELECT * FROM users WHERE application_id = $1 AND deleted_time IS NULL AND (id = ANY($2::bigint[]) OR name = ANY($3::text[]))`,
      [applicationId, ids, names],
    );
    return refs.map((ref) => {
      const found = rows.find((r) => ('id' in ref ? Number(r.id) === ref.id : r.name === ref.username));
      if (!found) {
        throw 'id' in ref ? ApiException.notFound('User', ref.id) : new ApiException(404, 'ResourceNotFoundError', `User with name ${ref.username} not found`);
      }
      return found;
    });
  }

  // ---- commands -------------------------------------------------------------------------------------------------

  /** Creates a channel, or returns the existing DIRECT channel of the same members / group channel of the same name. */
  async create(applicationId: number, input: CreateChannelInput, depth: number): Promise<ChannelRes> {
    const creator = input.creator ? (await this.users(applicationId, [input.creator]))[0] : undefined;
    const memberRows = await this.users(applicationId, input.members ?? []);
    const byId = new Map<number, Json>();
    if (creator) byId.set(Number(creator.id), creator);
    for (const m of memberRows) byId.set(Number(m.id), m);
    const memberIds = [...byId.keys()].sort((a, b) => a - b);

    if (input.type === 'DIRECT') {
      const directKey = memberIds.join(',');
      const existing = await this.findDirect(applicationId, directKey);
      if (existing) return existing;
      try {
        return await this.insert(applicationId, { type: 'DIRECT', directKey, creatorId: creator && Number(creator.id), properties: input.properties }, memberIds, depth);
      } catch (e) {
        if (pgCode(e) !== UNIQUE_VIOLATION) throw e;
        const raced = await this.findDirect(applicationId, directKey);
        if (raced) return raced;
        throw e;
      }
    }

    const name = input.name ?? crypto.randomUUID();
    const existing = await this.findByName(applicationId, name);
    if (existing) return sameTypeOrConflict(existing, input.type, name);
    try {
      return await this.insert(
        applicationId,
        { type: input.type, name, displayName: input.display_name ?? name, creatorId: creator && Number(creator.id), properties: input.properties },
        memberIds,
        depth,
      );
    } catch (e) {
      if (pgCode(e) !== UNIQUE_VIOLATION) throw e;
      const raced = await this.findByName(applicationId, name);
      if (raced) return sameTypeOrConflict(raced, input.type, name);
      throw e;
    }
  }

  async update(
    applicationId: number,
    id: number,
    patch: { display_name?: string; properties?: Record<string, unknown> },
    depth: number,
  ): Promise<ChannelRes> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, applicationId, id, 'KEY SHARE');
      const current = await this.row(applicationId, id, tx);
      if (patch.display_name !== undefined && current.type === 'DIRECT') {
        throw ApiException.badRequest('display_name: a DIRECT channel has no display name', {
          errors: [{ field: 'display_name', message: 'a DIRECT channel has no display name' }],
        });
      }
      await tx.query(
        `UPDATE channels SET display_name = coalesce($3, display_name), properties = coalesce($4::jsonb, properties)
          WHERE id = $1 AND application_id = $2`,
        [id, applicationId, patch.display_name ?? null, patch.properties === undefined ? null : JSON.stringify(patch.properties)],
      );
      const channel = await this.get(applicationId, id, tx);
      await this.record(tx, applicationId, 'channel.updated', channel, { channel }, depth);
      return channel;
    });
  }

  async delete(applicationId: number, id: number, depth: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.lock(tx, applicationId, id, 'UPDATE');
      const channel = await this.get(applicationId, id, tx);
      await this.record(tx, applicationId, 'channel.deleted', channel, { channel }, depth);
      await tx.query(`DELETE FROM channels WHERE id = $1 AND application_id = $2`, [id, applicationId]);
    });
  }

  async addMember(applicationId: number, id: number, ref: UserRef, depth: number): Promise<ChannelRes> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, applicationId, id, 'KEY SHARE');
      const current = await this.row(applicationId, id, tx);
      if (current.type === 'DIRECT') {
        throw ApiException.badRequest('The members of a DIRECT channel are fixed: create another direct channel instead');
      }
      const [user] = await this.users(applicationId, [ref], tx);
      const added: unknown[] = await tx.query(
        `INSERT INTO channel_members (channel_id, user_id, application_id) VALUES ($1, $2, $3)
          ON CONFLICT DO NOTHING RETURNING 1`,
        [id, user.id, applicationId],
      );
      const channel = channelRes(current);
      if (added.length) {
        await this.record(tx, applicationId, 'channel.member.added', channel, { channel, user: userRes(user) }, depth, Number(user.id));
      }
      return channel;
    });
  }

  async removeMember(applicationId: number, id: number, userId: number, depth: number): Promise<ChannelRes> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, applicationId, id, 'KEY SHARE');
      const current = await this.row(applicationId, id, tx);
      if (current.type === 'DIRECT') throw ApiException.badRequest('The members of a DIRECT channel are fixed');
      const [user] = await this.users(applicationId, [{ id: userId }], tx);
      const removed = affectedRows(
        await tx.query(`DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2`, [id, userId]),
      );
      if (!removed) throw new ApiException(404, 'ResourceNotFoundError', `User ${userId} is not a member of channel ${id}`);
      const channel = channelRes(current);
      await this.record(tx, applicationId, 'channel.member.removed', channel, { channel, user: userRes(user) }, depth, userId);
      return channel;
    });
  }

  /** Makes a member a moderator (a non-member becomes a member first). Returns the user. */
  async addModerator(applicationId: number, id: number, ref: UserRef, depth: number): Promise<UserRes> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, applicationId, id, 'KEY SHARE');
      const current = await this.row(applicationId, id, tx);
      if (current.type === 'DIRECT') throw ApiException.badRequest('A DIRECT channel has no moderators');
      const [user] = await this.users(applicationId, [ref], tx);
      const rows: { inserted: boolean; was_moderator: boolean | null }[] = await tx.query(
        `WITH prev AS (SELECT moderator FROM channel_members WHERE channel_id = $1 AND user_id = $2)
         INSERT INTO channel_members (channel_id, user_id, application_id, moderator) VALUES ($1, $2, $3, true)
          ON CONFLICT (channel_id, user_id) DO UPDATE SET moderator = true
         RETURNING (xmax = 0) AS inserted, (SELECT moderator FROM prev) AS was_moderator`,
        [id, user.id, applicationId],
      );
      const channel = channelRes(current);
      const data = { channel, user: userRes(user) };
      if (rows[0]?.inserted) await this.record(tx, applicationId, 'channel.member.added', channel, data, depth, Number(user.id));
      if (!rows[0]?.was_moderator) await this.record(tx, applicationId, 'channel.moderator.added', channel, data, depth, Number(user.id));
      return userRes(user);
    });
  }

  async removeModerator(applicationId: number, id: number, userId: number, depth = 0): Promise<ChannelRes> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, applicationId, id, 'KEY SHARE');
      const current = await this.row(applicationId, id, tx);
      const [user] = await this.users(applicationId, [{ id: userId }], tx);
      const changed = affectedRows(
        await tx.query(`UPDATE channel_members SET moderator = false WHERE channel_id = $1 AND user_id = $2 AND moderator`, [id, userId]),
      );
      if (!changed) throw new ApiException(404, 'ResourceNotFoundError', `User ${userId} is not a moderator of channel ${id}`);
      const channel = channelRes(current);
      await this.record(tx, applicationId, 'channel.moderator.removed', channel, { channel, user: userRes(user) }, depth, userId);
      return channel;
    });
  }

  /** Records an invite and its `user.received.channel_invite` event. */
  async invite(applicationId: number, id: number, ref: UserRef, depth: number): Promise<{ createdTime: string }> {
    return this.db.transaction(async (tx) => {
      const current = await this.row(applicationId, id, tx);
      if (current.type === 'DIRECT') throw ApiException.badRequest('Users cannot be invited to a DIRECT channel');
      const [user] = await this.users(applicationId, [ref], tx);
      const rows: { created_time: Date }[] = await tx.query(
        `INSERT INTO channel_invites (channel_id, user_id) VALUES ($1, $2) RETURNING created_time`,
        [id, user.id],
      );
      const channel = channelRes(current);
      await this.record(tx, applicationId, 'user.received.channel_invite', channel, { user: userRes(user), channel }, depth, Number(user.id));
      return { createdTime: rows[0].created_time.toISOString() };
    });
  }

  /** A custom event sent through the Platform API: `system.triggered.event`. */
  async triggerEvent(
    applicationId: number,
    id: number,
    event: { type: string; properties: Record<string, unknown> },
    depth: number,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const channel = await this.get(applicationId, id, tx);
      await this.record(tx, applicationId, 'system.triggered.event', channel, { channel, event }, depth);
    });
  }

  // ---- internals ------------------------------------------------------------------------------------------------

  private async findDirect(applicationId: number, directKey: string): Promise<ChannelRes | undefined> {
    const rows: Json[] = await this.db.query(
      `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.application_id = $1 AND c.direct_key = $2`,
      [applicationId, directKey],
    );
    return rows[0] && channelRes(rows[0]);
  }

  private async findByName(applicationId: number, name: string): Promise<ChannelRes | undefined> {
    const rows: Json[] = await this.db.query(
      `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.application_id = $1 AND c.name = $2`,
      [applicationId, name],
    );
    return rows[0] && channelRes(rows[0]);
  }

  private async insert(
    applicationId: number,
    c: { type: string; name?: string; displayName?: string; directKey?: string; creatorId?: number; properties?: Record<string, unknown> },
    memberIds: number[],
    depth: number,
  ): Promise<ChannelRes> {
    return this.db.transaction(async (tx) => {
      const [{ id }]: { id: string }[] = await tx.query(
        `WITH ch AS (
           INSERT INTO channels (application_id, type, name, display_name, direct_key, creator_id, properties)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id
         ), mem AS (
           INSERT INTO channel_members (channel_id, user_id, application_id)
           SELECT ch.id, u, $1 FROM ch, unnest($8::bigint[]) AS u
         )
         SELECT id FROM ch`,
        [applicationId, c.type, c.name ?? null, c.displayName ?? null, c.directKey ?? null, c.creatorId ?? null, JSON.stringify(c.properties ?? {}), memberIds],
      );
      const channel = await this.get(applicationId, Number(id), tx);
      const events: ChatEventInput[] = [
        { applicationId, type: 'channel.created', channelId: channel.id, userId: c.creatorId, data: { channel }, depth },
      ];
      const members = (channel.members as UserRes[] | undefined) ?? (await this.users(applicationId, memberIds.map((m) => ({ id: m })), tx)).map(userRes);
      for (const user of members) {
        events.push({ applicationId, type: 'channel.member.added', channelId: channel.id, userId: user.id, data: { channel, user }, depth });
      }
      await this.recorder.recordAll(tx, events);
      return channel;
    });
  }

  private record(
    tx: EntityManager,
    applicationId: number,
    type: string,
    channel: ChannelRes,
    data: Json,
    depth: number,
    userId?: number,
  ): Promise<unknown> {
    return this.recorder.record(tx, { applicationId, type, channelId: channel.id, userId, data, depth });
  }
}

function sameTypeOrConflict(existing: ChannelRes, type: string, name: string): ChannelRes {
  if (existing.type !== type) {
    throw ApiException.conflict(`A ${existing.type} channel named ${name} already exists`, { name });
  }
  return existing;
}
