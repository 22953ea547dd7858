import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CHANNEL_COLUMNS, channelRes, ChannelRes, Json, userRes, UserRes } from '../channels/resources';

export interface ReadReceiptSummary {
  channel: ChannelRes;
  user: UserRes;
  /** Messages of the channel the member has not read (not their own, no read receipt of theirs). */
  count: number;
}

/**
 * `ApplicationApi.retrieveApplicationMessageReadReceiptSummaries`: one summary per channel member with unread
 * messages in that channel (members with nothing unread are left out), ordered by channel then user.
 */
@Injectable()
export class ReadReceiptSummariesService {
  constructor(private readonly db: DataSource) {}

  async page(applicationId: number, page: number, size: number): Promise<{ items: ReadReceiptSummary[]; total: number }> {
    const rows: { channel_id: string; user_id: string; n: number; total: number }[] = await this.db.query(
      `SELECT cm.channel_id, cm.user_id, count(*)::int AS n, (count(*) OVER ())::int AS total
         FROM channel_members cm
         JOIN messages m ON m.channel_id = cm.channel_id
        WHERE cm.application_id = $1 AND m.user_id IS DISTINCT FROM cm.user_id
          AND NOT EXISTS (SELECT 1 FROM message_read_receipts r WHERE r.message_id = m.id AND r.user_id = cm.user_id)
        GROUP BY cm.channel_id, cm.user_id
        ORDER BY cm.channel_id, cm.user_id
        LIMIT $2 OFFSET $3`,
      [applicationId, size, page * size],
    );
    if (rows.length === 0) {
      // Past the last page the window total is unknown: count the groups.
      const [{ total }]: { total: number }[] = page === 0 ? [{ total: 0 }] : await this.db.query(
        `SELECT count(*)::int AS total FROM (
           SELECT 1 FROM channel_members cm JOIN messages m ON m.channel_id = cm.channel_id
            WHERE cm.application_id = $1 AND m.user_id IS DISTINCT FROM cm.user_id
              AND NOT EXISTS (SELECT 1 FROM message_read_receipts r WHERE r.message_id = m.id AND r.user_id = cm.user_id)
            GROUP BY cm.channel_id, cm.user_id) g`,
        [applicationId],
      );
      return { items: [], total };
    }
    const channelIds = [...new Set(rows.map((r) => r.channel_id))];
    const userIds = [...new Set(rows.map((r) => r.user_id))];
    const [channels, users]: [Json[], Json[]] = await Promise.all([
      this.db.query(`SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.id = ANY($1::bigint[])`, [channelIds]),
      this.db.query(`SELECT * FROM users WHERE id = ANY($1::bigint[])`, [userIds]),
    ]);
    const channelById = new Map(channels.map((c) => [String(c.id), channelRes(c)]));
    const userById = new Map(users.map((u) => [String(u.id), userRes(u)]));
    return {
      items: rows.map((r) => ({ channel: channelById.get(String(r.channel_id))!, user: userById.get(String(r.user_id))!, count: r.n })),
      total: rows[0].total,
    };
  }
}
