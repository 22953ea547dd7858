import { Controller, Get, Query, Req, UseGuards } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Request } from 'express';
import { Repository } from 'typeorm';
import { z } from 'zod';
import { AppId, ApplicationAuthGuard, PageQuerySchema, parseInput } from '@chatfn/platform';
import { ApiLinks } from '../shared/api-links';
import { pagedModel } from '../shared/hal';
import { UsersService } from '../users/users.service';
import { UserEntity } from '../users/user.entity';
import { ChatSessionEntity } from './chat-session.entity';
import { toChatSessionResource, toUserSessionResource } from './session.mapper';
import { UserSessionEntity } from './user-session.entity';

const SessionListQuerySchema = PageQuerySchema.extend({ state: z.enum(['ACTIVE', 'ENDED']).optional() });

/** The SDK's UserSessionsApi and ChatSessionsApi (sessions are written by the real-time gateway). */
@Controller('v1')
@UseGuards(ApplicationAuthGuard)
export class SessionsController {
  constructor(
    @InjectRepository(UserSessionEntity) private readonly userSessions: Repository<UserSessionEntity>,
    @InjectRepository(ChatSessionEntity) private readonly chatSessions: Repository<ChatSessionEntity>,
    private readonly users: UsersService,
    private readonly links: ApiLinks,
  ) {}

  @Get('user-sessions')
  async listUserSessions(@AppId() appId: number, @Query() query: unknown, @Req() req: Request) {
    const q = parseInput(SessionListQuerySchema, query, 'query');
    const [rows, total] = await this.userSessions.findAndCount({
      where: { applicationId: appId, ...(q.state ? { state: q.state } : {}) },
      order: { id: 'DESC' },
      skip: q.page * q.size,
      take: q.size,
    });
    const users = await this.usersOf(appId, rows.map((r) => r.userId));
    const items = rows.filter((r) => users.has(r.userId)).map((r) => toUserSessionResource(r, users.get(r.userId)!, this.links.base));
    return pagedModel('sessions', items, q, total, this.links.requestHref(req));
  }

  @Get('chat-sessions')
  async listChatSessions(@AppId() appId: number, @Query() query: unknown, @Req() req: Request) {
    const q = parseInput(SessionListQuerySchema, query, 'query');
    const [rows, total] = await this.chatSessions.findAndCount({
      where: { applicationId: appId, ...(q.state ? { state: q.state } : {}) },
      order: { id: 'DESC' },
      skip: q.page * q.size,
      take: q.size,
    });
    const sessionIds = [...new Set(rows.map((r) => r.userSessionId))];
    const sessions = new Map(
      (sessionIds.length ? await this.userSessions.findBy(sessionIds.map((id) => ({ id, applicationId: appId }))) : []).map((s) => [s.id, s]),
    );
    const users = await this.usersOf(appId, rows.map((r) => r.userId));
    const items = rows
      .filter((r) => sessions.has(r.userSessionId) && users.has(r.userId))
      .map((r) => toChatSessionResource(r, sessions.get(r.userSessionId)!, users.get(r.userId)!, this.links.base));
    return pagedModel('sessions', items, q, total, this.links.requestHref(req));
  }

  /** Users of the sessions, deleted ones included (a session outlives its user's deletion in history). */
  private async usersOf(appId: number, ids: number[]): Promise<Map<number, UserEntity>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows = await this.users.findManyIncludingDeleted(appId, unique);
    return rows;
  }
}
