import { Controller, Get, Param, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { AppId, ApplicationAuthGuard, PageQuerySchema, parseInput } from '@chatfn/platform';
import { ChannelsService } from '../channels/channels.service';
import { channelOut } from '../channels/render';
import { Json, userRes } from '../channels/resources';
import { toWire } from '../channels/wire-format';
import { idOf, messagesPage } from '../messages/messages.controller';
import { CursorQuerySchema, UnreadFilterSchema } from '../messages/messages.schema';
import { MessagesService } from '../messages/messages.service';
import { ApiLinks } from '../shared/api-links';
import { cursorModel, pagedModel, selfLinks } from '../shared/hal';
import { notificationRes } from './notifications.service';
import { DataSource } from 'typeorm';

/** A user's messaging views (UsersApi): channels, messages, unread count and notifications. */
@Controller('v1/users')
@UseGuards(ApplicationAuthGuard)
export class UserInboxController {
  constructor(
    private readonly db: DataSource,
    private readonly channels: ChannelsService,
    private readonly messages: MessagesService,
    private readonly links: ApiLinks,
  ) {}

  @Get(':id/channels')
  async channelsOf(@AppId() app: number, @Param('id') id: string, @Query() q: unknown, @Req() req: Request) {
    const paging = parseInput(PageQuerySchema, q, 'query');
    const { items, total } = await this.channels.listForUser(app, idOf(id), paging);
    return pagedModel('channels', items.map((c) => channelOut(c, this.links.base)), paging, total, this.links.requestHref(req));
  }

  /** Messages of the channels the user belongs to; `unread=true`: those of others the user has no read receipt for. */
  @Get(':id/messages')
  async messagesOf(@AppId() app: number, @Param('id') id: string, @Query() q: unknown, @Req() req: Request) {
    const userId = idOf(id);
    const cursor = parseInput(CursorQuerySchema, q, 'query');
    const { unread } = parseInput(UnreadFilterSchema, q, 'query');
    await this.channels.users(app, [{ id: userId }]);
    const page = await this.messages.page(inboxWhere(unread === 'true'), [app, userId], cursor);
    return messagesPage(page, cursor.size, this.links.base, this.links.requestHref(req));
  }

  @Get(':id/messages/unread/count')
  async unreadCount(@AppId() app: number, @Param('id') id: string) {
    const userId = idOf(id);
    await this.channels.users(app, [{ id: userId }]);
    const rows: { n: number }[] = await this.db.query(`SELECT count(*)::int AS n FROM messages m WHERE ${inboxWhere(true)}`, [app, userId]);
    return { count: rows[0].n };
  }

  @Get(':id/notifications')
  async notifications(@AppId() app: number, @Param('id') id: string, @Query() q: unknown, @Req() req: Request) {
    const userId = idOf(id);
    const c = parseInput(CursorQuerySchema, q, 'query');
    const [user] = await this.channels.users(app, [{ id: userId }]);
    const recipient = userRes(user);
    const args: unknown[] = [userId, app];
    const conds = ['n.user_id = $1', 'n.application_id = $2'];
    let order = 'DESC';
    if (c.next !== undefined && c.relation === 'PREVIOUS') {
      args.push(c.next);
      conds.push(`n.id > $${args.length}`);
      order = 'ASC';
    } else if (c.next !== undefined || c.start !== undefined) {
      args.push(c.next ?? c.start);
      conds.push(`n.id <= $${args.length}`);
    }
    args.push(c.size + 1);
    const rows: Json[] = await this.db.query(
      `SELECT n.*, (SELECT to_jsonb(ch) || jsonb_build_object('members', NULL) FROM channels ch WHERE ch.id = n.channel_id) AS ch
         FROM notifications n WHERE ${conds.join(' AND ')} ORDER BY n.id ${order} LIMIT $${args.length}`,
      args,
    );
    const [{ n: total }]: { n: number }[] = await this.db.query(
      `SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND application_id = $2`,
      [userId, app],
    );
    let page = rows.slice(0, c.size);
    if (order === 'ASC') page = page.reverse();
    const items = page.map((r) => notificationRes(r, r.ch as Json | null, recipient));
    const start = c.start ?? (items[0]?.id as number | undefined);
    const last = items[items.length - 1];
    const next = order === 'DESC' && rows.length > c.size && last ? Number(last.id) - 1 : undefined;
    const prev = items[0] && start !== undefined && Number(items[0].id) < start ? Number(items[0].id) : undefined;
    return cursorModel(
      'notifications',
      items.map((i) => ({ ...toWire<Record<string, unknown>>(i), _links: selfLinks(this.links.base, `/users/${userId}/notifications`) })),
      { size: c.size, total, start, next, prev },
      this.links.requestHref(req),
    );
  }
}

/** Messages in the user's channels ($1 app, $2 user); unread: not the user's own and without their read receipt. */
function inboxWhere(unread: boolean): string {
  const base = `m.application_id = $1 AND m.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = $2)`;
  return unread
    ? `${base} AND m.user_id IS DISTINCT FROM $2
        AND NOT EXISTS (SELECT 1 FROM message_read_receipts r WHERE r.message_id = m.id AND r.user_id = $2)`
    : base;
}
