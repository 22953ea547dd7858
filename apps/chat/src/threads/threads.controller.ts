import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppId, ApplicationAuthGuard, parseInput } from '@chatfn/platform';
import { KeystrokesSchema } from '../channels/channels.schema';
import { ChannelsService } from '../channels/channels.service';
import { messageOut } from '../channels/render';
import { FileStorage } from '../files/file-storage.service';
import { idOf, messagesPage, sendInputOf } from '../messages/messages.controller';
import { CursorQuerySchema } from '../messages/messages.schema';
import { MessagesService } from '../messages/messages.service';
import { ApiLinks } from '../shared/api-links';
import { EventDepth } from '../shared/event-depth.decorator';
import { selfLinks } from '../shared/hal';

/**
 * The SDK's ThreadsApi. A message's reply thread has the message's id (`type: MESSAGE`); replies are messages with
 * `parent_id` = the thread id and `nested_level` = parent's + 1; the parent counts them in `replies_count`.
 */
@Controller('v1/threads')
@UseGuards(ApplicationAuthGuard)
export class ThreadsController {
  constructor(
    private readonly messages: MessagesService,
    private readonly channels: ChannelsService,
    private readonly files: FileStorage,
    private readonly links: ApiLinks,
  ) {}

  @Get(':id')
  async retrieve(@AppId() app: number, @Param('id') id: string) {
    const parent = await this.messages.get(app, idOf(id));
    return {
      id: parent.id,
      type: 'MESSAGE',
      created_time: parent.createdTime,
      properties: {},
      _links: selfLinks(this.links.base, `/threads/${parent.id}`, { messages: `/threads/${parent.id}/messages`, message: `/messages/${parent.id}` }),
    };
  }

  @Get(':id/messages')
  async list(@AppId() app: number, @Param('id') id: string, @Query() q: unknown, @Req() req: Request) {
    const threadId = idOf(id);
    const cursor = parseInput(CursorQuerySchema, q, 'query');
    await this.messages.get(app, threadId);
    const page = await this.messages.page(`m.application_id = $1 AND m.parent_id = $2`, [app, threadId], cursor);
    return messagesPage(page, cursor.size, this.links.base, this.links.requestHref(req));
  }

  @Post(':id/messages')
  async reply(
    @AppId() app: number,
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @EventDepth() depth: number,
  ) {
    const threadId = idOf(id);
    const input = await sendInputOf(app, req, res, body, this.files);
    const parent = await this.messages.get(app, threadId);
    return messageOut(await this.messages.send(app, parent.channelId, input, depth, parent.id), this.links.base);
  }

  @Post(':id/keystrokes')
  @HttpCode(202)
  async keystrokes(@AppId() app: number, @Param('id') id: string, @Body() body: unknown) {
    const threadId = idOf(id);
    const input = parseInput(KeystrokesSchema, body);
    await this.messages.get(app, threadId);
    const [user] = await this.channels.users(app, [input.user]);
    return { keys: input.keys, username: user.name, _links: selfLinks(this.links.base, `/threads/${threadId}`) };
  }
}
