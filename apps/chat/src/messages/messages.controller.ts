import {
  Body,
  Controller,
  Delete,
  Get,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { MultipartFileReader } from '../files/multipart-file.reader';
import type { Request, Response } from 'express';
import { AppId, ApplicationAuthGuard, PageQuerySchema, parseInput } from '@chatfn/platform';
import { toApplicationResource } from '../applications/application.mapper';
import { ApplicationsService } from '../applications/applications.service';
import { IdParamSchema } from '../channels/channels.schema';
import { ChannelsService } from '../channels/channels.service';
import { messageOut } from '../channels/render';
import { toWire } from '../channels/wire-format';
import { FileStorage } from '../files/file-storage.service';
import { ApiLinks } from '../shared/api-links';
import { EventDepth } from '../shared/event-depth.decorator';
import { cursorModel, pagedModel, selfLinks } from '../shared/hal';
import { CreateMessageSchema, CursorQuerySchema, MessageFilterSchema, MultipartMessageSchema, UpdateMessageSchema } from './messages.schema';
import { CursorPage, MessagesService, SendInput } from './messages.service';
import { MessageRes } from '../channels/resources';

export const idOf = (v: string, field = 'id') => parseInput(IdParamSchema, v, field) as number;

/** A message's file, sent as multipart (`POST .../messages` and thread replies). */
const MESSAGE_UPLOAD = new MultipartFileReader('file', { limits: { fileSize: 50 * 1024 * 1024 } });

/**
 * Builds the service input from a JSON body or a multipart upload (`file` + `groupTag`, `username`, `properties`),
 * which is read here, after the guards.
 */
export async function sendInputOf(app: number, req: Request, res: Response, json: unknown, files: FileStorage): Promise<SendInput> {
  const multipart = await MESSAGE_UPLOAD.read(req, res);
  const body = multipart ? multipart.body : json;
  const file = multipart?.file;
  if (file) {
    const form = parseInput(MultipartMessageSchema, body ?? {});
    const stored = await files.save(app, file);
    return {
      type: 'FILE',
      file: { type: 'HOSTED', url: stored.url, name: stored.name, contentType: stored.contentType, size: stored.size },
      groupTag: form.groupTag ?? form.group_tag,
      properties: form.properties,
      user: form.username ? { username: form.username } : undefined,
    };
  }
  const input = parseInput(CreateMessageSchema, body);
  const common = { groupTag: input.group_tag, properties: input.properties, user: input.user };
  if (input.type === 'TEXT') return { type: 'TEXT', body: input.body, ...common };
  const f = input.file;
  return { type: 'FILE', file: { type: 'EXTERNAL', url: f.url, name: f.name, contentType: f.content_type, size: f.size }, ...common };
}

export function messagesPage(page: CursorPage<MessageRes>, size: number, base: string, selfHref: string) {
  return cursorModel('messages', page.items.map((m) => messageOut(m, base)), { size, total: page.total, start: page.start, next: page.next, prev: page.prev }, selfHref);
}

export function filterSql(f: { username?: string; query?: string }, args: unknown[]): string {
  const conds: string[] = [];
  if (f.username) {
    args.push(f.username);
    conds.push(`m.user_id = (SELECT id FROM users WHERE application_id = $1 AND name = $${args.length} AND deleted_time IS NULL)`);
  }
  if (f.query) {
    args.push(`%${f.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    conds.push(`m.body ILIKE $${args.length}`);
  }
  return conds.map((c) => ` AND ${c}`).join('');
}

/** `POST/GET /v1/channels/{id}/messages` (ChannelsApi) and the MessagesApi. */
@Controller('v1')
@UseGuards(ApplicationAuthGuard)
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly channels: ChannelsService,
    private readonly apps: ApplicationsService,
    private readonly files: FileStorage,
    private readonly links: ApiLinks,
  ) {}

  @Post('channels/:id/messages')
  async send(
    @AppId() app: number,
    @Param('id') cid: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @EventDepth() depth: number,
  ) {
    const channelId = idOf(cid);
    const input = await sendInputOf(app, req, res, body, this.files);
    return messageOut(await this.messages.send(app, channelId, input, depth), this.links.base);
  }

  @Get('channels/:id/messages')
  async channelMessages(@AppId() app: number, @Param('id') cid: string, @Query() q: unknown, @Req() req: Request) {
    const channelId = idOf(cid);
    const cursor = parseInput(CursorQuerySchema, q, 'query');
    const f = parseInput(MessageFilterSchema, q, 'query');
    await this.channels.row(app, channelId);
    const args: unknown[] = [app, channelId];
    const where = `m.application_id = $1 AND m.channel_id = $2 AND m.parent_id IS NULL${filterSql(f, args)}`;
    return messagesPage(await this.messages.page(where, args, cursor), cursor.size, this.links.base, this.links.requestHref(req));
  }

  @Get('channels/:id/reported-messages')
  async reported(@AppId() app: number, @Param('id') cid: string, @Query() q: unknown, @Req() req: Request) {
    const channelId = idOf(cid);
    const paging = parseInput(PageQuerySchema, q, 'query');
    await this.channels.row(app, channelId);
    const page = await this.messages.page(`m.application_id = $1 AND m.channel_id = $2 AND m.report_count > 0`, [app, channelId], {
      size: 10_000,
    });
    const items = page.items.slice(paging.page * paging.size, (paging.page + 1) * paging.size);
    return pagedModel('messages', items.map((m) => messageOut(m, this.links.base)), paging, page.total, this.links.requestHref(req));
  }

  @Get('messages')
  async list(@AppId() app: number, @Query() q: unknown, @Req() req: Request) {
    const cursor = parseInput(CursorQuerySchema, q, 'query');
    const f = parseInput(MessageFilterSchema, q, 'query');
    const args: unknown[] = [app];
    const where = `m.application_id = $1${filterSql(f, args)}`;
    return messagesPage(await this.messages.page(where, args, cursor), cursor.size, this.links.base, this.links.requestHref(req));
  }

  /** Deletes every message of the application; answers the application, as the SDK declares. */
  @Delete('messages')
  async deleteAll(@AppId() app: number) {
    await this.messages.deleteAll(app);
    return toApplicationResource(await this.apps.get(app), this.links.base);
  }

  @Get('messages/:id')
  async retrieve(@AppId() app: number, @Param('id') id: string) {
    return messageOut(await this.messages.get(app, idOf(id)), this.links.base);
  }

  @Patch('messages/:id')
  async update(@AppId() app: number, @Param('id') id: string, @Body() body: unknown, @EventDepth() depth: number) {
    const messageId = idOf(id);
    const patch = parseInput(UpdateMessageSchema, body ?? {});
    return messageOut(await this.messages.update(app, messageId, patch, depth), this.links.base);
  }

  /** Answers the `ReplyThreadResource` the message belonged to, as the SDK declares. */
  @Delete('messages/:id')
  async remove(@AppId() app: number, @Param('id') id: string, @EventDepth() depth: number) {
    const m = await this.messages.delete(app, idOf(id), depth);
    if (m.parentId !== undefined) {
      return { id: m.parentId, type: 'MESSAGE', created_time: m.createdTime, properties: {}, _links: selfLinks(this.links.base, `/threads/${m.parentId}`) };
    }
    return { id: m.channelId, type: 'MAIN', created_time: m.createdTime, properties: {}, _links: selfLinks(this.links.base, `/channels/${m.channelId}`) };
  }

  @Get('messages/:id/read-receipts')
  async receipts(@AppId() app: number, @Param('id') id: string, @Query() q: unknown, @Req() req: Request) {
    const paging = parseInput(PageQuerySchema, q, 'query');
    const { items, total } = await this.messages.readReceipts(app, idOf(id), paging);
    const rows = items.map((r) => ({ ...toWire<Record<string, unknown>>(r), _links: selfLinks(this.links.base, `/messages/${id}/read-receipts`) }));
    return pagedModel('receipts', rows, paging, total, this.links.requestHref(req));
  }
}

