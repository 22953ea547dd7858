import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { ApiException, AppId, ApplicationAuthGuard, PageQuerySchema, parseInput } from '@chatfn/platform';
import { toApplicationResource } from '../applications/application.mapper';
import { ApplicationsService } from '../applications/applications.service';
import { ApiLinks } from '../shared/api-links';
import { EventDepth } from '../shared/event-depth.decorator';
import { pagedModel, selfLinks } from '../shared/hal';
import {
  ChannelEventSchema,
  CreateChannelSchema,
  IdParamSchema,
  InviteSchema,
  KeystrokesSchema,
  ListChannelsQuerySchema,
  MemberBodySchema,
  UpdateChannelSchema,
} from './channels.schema';
import { ChannelsService } from './channels.service';
import { channelOut, userOut } from './render';
import { toWire } from './wire-format';

const id = (v: string) => parseInput(IdParamSchema, v, 'id') as number;
const userId = (v: string) => parseInput(IdParamSchema, v, 'user_id') as number;

/** The SDK's ChannelsApi (messages of a channel are served by the messages feature). */
@Controller('v1/channels')
@UseGuards(ApplicationAuthGuard)
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly apps: ApplicationsService,
    private readonly links: ApiLinks,
  ) {}

  @Post()
  async create(@AppId() app: number, @Body() body: unknown, @EventDepth() depth: number) {
    return channelOut(await this.channels.create(app, parseInput(CreateChannelSchema, body), depth), this.links.base);
  }

  @Get()
  async list(@AppId() app: number, @Query() query: Record<string, unknown>, @Req() req: Request) {
    const paging = parseInput(PageQuerySchema, query, 'query');
    const f = parseInput(ListChannelsQuerySchema, query, 'query');
    let properties: Record<string, unknown> | undefined;
    if (f.properties !== undefined) {
      try {
        properties = JSON.parse(f.properties);
      } catch {
        properties = undefined;
      }
      if (!properties || typeof properties !== 'object' || Array.isArray(properties)) {
        throw ApiException.badRequest('properties: must be a JSON object', {
          errors: [{ field: 'properties', message: 'must be a JSON object' }],
        });
      }
    }
    const members = f.members === undefined ? undefined : ([] as string[]).concat(f.members).flatMap((m) => m.split(',')).filter(Boolean);
    const { items, total } = await this.channels.list(app, { ...f, members, properties }, paging);
    return pagedModel('channels', items.map((c) => channelOut(c, this.links.base)), paging, total, this.links.requestHref(req));
  }

  @Get(':id')
  async retrieve(@AppId() app: number, @Param('id') cid: string) {
    return channelOut(await this.channels.get(app, id(cid)), this.links.base);
  }

  @Patch(':id')
  async update(@AppId() app: number, @Param('id') cid: string, @Body() body: unknown, @EventDepth() depth: number) {
    const channelId = id(cid);
    return channelOut(await this.channels.update(app, channelId, parseInput(UpdateChannelSchema, body ?? {}), depth), this.links.base);
  }

  /** Answers the application (`ApplicationResource`), as the SDK declares. */
  @Delete(':id')
  async remove(@AppId() app: number, @Param('id') cid: string, @EventDepth() depth: number) {
    await this.channels.delete(app, id(cid), depth);
    return toApplicationResource(await this.apps.get(app), this.links.base);
  }

  @Post(':id/members')
  @HttpCode(200)
  async addMember(@AppId() app: number, @Param('id') cid: string, @Body() body: unknown, @EventDepth() depth: number) {
    const channelId = id(cid);
    return channelOut(await this.channels.addMember(app, channelId, parseInput(MemberBodySchema, body), depth), this.links.base);
  }

  @Delete(':id/members/:userId')
  async removeMember(@AppId() app: number, @Param('id') cid: string, @Param('userId') uid: string, @EventDepth() depth: number) {
    return channelOut(await this.channels.removeMember(app, id(cid), userId(uid), depth), this.links.base);
  }

  @Get(':id/members')
  members(@AppId() app: number, @Param('id') cid: string, @Query() q: unknown, @Req() req: Request) {
    return this.users(app, cid, 'members', q, req);
  }

  @Get(':id/participants')
  participants(@AppId() app: number, @Param('id') cid: string, @Query() q: unknown, @Req() req: Request) {
    return this.users(app, cid, 'participants', q, req);
  }

  @Get(':id/moderators')
  moderators(@AppId() app: number, @Param('id') cid: string, @Query() q: unknown, @Req() req: Request) {
    return this.users(app, cid, 'moderators', q, req);
  }

  @Post(':id/moderators')
  @HttpCode(200)
  async addModerator(@AppId() app: number, @Param('id') cid: string, @Body() body: unknown, @EventDepth() depth: number) {
    const channelId = id(cid);
    return userOut(await this.channels.addModerator(app, channelId, parseInput(MemberBodySchema, body), depth), this.links.base);
  }

  @Delete(':id/moderators/:userId')
  async removeModerator(@AppId() app: number, @Param('id') cid: string, @Param('userId') uid: string, @EventDepth() depth: number) {
    return channelOut(await this.channels.removeModerator(app, id(cid), userId(uid), depth), this.links.base);
  }

  @Get(':id/memberships')
  async memberships(@AppId() app: number, @Param('id') cid: string, @Query() q: unknown, @Req() req: Request) {
    const paging = parseInput(PageQuerySchema, q, 'query');
    const channelId = id(cid);
    const { items, total } = await this.channels.listUsers(app, channelId, 'members', paging);
    const rows = items.map(({ joinedTime, ...user }) => ({
      created_time: joinedTime,
      user: userOut(user as typeof items[number], this.links.base),
      _links: selfLinks(this.links.base, `/channels/${channelId}/memberships`, { user: `/users/${user.id}` }),
    }));
    return pagedModel('memberships', rows, paging, total, this.links.requestHref(req));
  }

  @Get(':id/invites')
  async invites(@AppId() app: number, @Param('id') cid: string, @Query() q: unknown, @Req() req: Request) {
    const paging = parseInput(PageQuerySchema, q, 'query');
    const channelId = id(cid);
    const { items, total } = await this.channels.listInvites(app, channelId, paging);
    const rows = items.map((i) => ({
      ...toWire<Record<string, unknown>>(i),
      _links: selfLinks(this.links.base, `/channels/${channelId}/invites`, { channel: `/channels/${channelId}` }),
    }));
    return pagedModel('invites', rows, paging, total, this.links.requestHref(req));
  }

  @Post(':id/invites')
  async invite(@AppId() app: number, @Param('id') cid: string, @Body() body: unknown, @EventDepth() depth: number) {
    const channelId = id(cid);
    const input = parseInput(InviteSchema, body);
    const invite = await this.channels.invite(app, channelId, input.user, depth);
    return {
      created_time: invite.createdTime,
      _links: selfLinks(this.links.base, `/channels/${channelId}/invites`, { channel: `/channels/${channelId}` }),
    };
  }

  @Post(':id/events')
  async event(@AppId() app: number, @Param('id') cid: string, @Body() body: unknown, @EventDepth() depth: number) {
    const channelId = id(cid);
    const event = parseInput(ChannelEventSchema, body);
    await this.channels.triggerEvent(app, channelId, event, depth);
    return { type: event.type, properties: event.properties, _links: selfLinks(this.links.base, `/channels/${channelId}`) };
  }

  /** Typing indicators are ephemeral: validated, acknowledged, not stored. */
  @Post(':id/keystrokes')
  @HttpCode(202)
  async keystrokes(@AppId() app: number, @Param('id') cid: string, @Body() body: unknown) {
    const channelId = id(cid);
    const input = parseInput(KeystrokesSchema, body);
    const [user] = await this.channels.users(app, [input.user]);
    await this.channels.row(app, channelId);
    return { keys: input.keys, username: user.name, _links: selfLinks(this.links.base, `/channels/${channelId}`) };
  }

  private async users(app: number, cid: string, which: 'members' | 'moderators' | 'participants', q: unknown, req: Request) {
    const paging = parseInput(PageQuerySchema, q, 'query');
    const page = await this.channels.listUsers(app, id(cid), which, paging);
    const rows = page.items.map(({ joinedTime: _j, ...u }) => userOut(u as never, this.links.base));
    return pagedModel('users', rows, paging, page.total, this.links.requestHref(req));
  }
}
