import { Body, Controller, Get, Put, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { AppId, ApplicationAuthGuard, PageQuerySchema, parseInput } from '@chatfn/platform';
import { channelOut, userOut } from '../channels/render';
import { ApiLinks } from '../shared/api-links';
import { pagedModel } from '../shared/hal';
import { toApplicationResource, toApplicationSettingsResource } from './application.mapper';
import { ApplicationSettingsSchema } from './application.schema';
import { ApplicationsService } from './applications.service';
import { ReadReceiptSummariesService } from './read-receipt-summaries.service';

/** The SDK's ApplicationApi. */
@Controller('v1/application')
@UseGuards(ApplicationAuthGuard)
export class ApplicationController {
  constructor(
    private readonly apps: ApplicationsService,
    private readonly links: ApiLinks,
    private readonly summaries: ReadReceiptSummariesService,
  ) {}

  @Get()
  async retrieve(@AppId() appId: number) {
    return toApplicationResource(await this.apps.get(appId), this.links.base);
  }

  @Get('settings')
  async settings(@AppId() appId: number) {
    return toApplicationSettingsResource(await this.apps.get(appId), this.links.base);
  }

  @Put('settings')
  async updateSettings(@AppId() appId: number, @Body() body: unknown) {
    const settings = parseInput(ApplicationSettingsSchema, body);
    return toApplicationSettingsResource(await this.apps.updateSettings(appId, settings), this.links.base);
  }

  /** `PagedModelMessageReadReceiptSummaryResource`: per channel member, how many messages they have not read. */
  @Get('message-read-receipt-summaries')
  async readReceiptSummaries(@AppId() appId: number, @Query() query: unknown, @Req() req: Request) {
    const q = parseInput(PageQuerySchema, query, 'query');
    const { items, total } = await this.summaries.page(appId, q.page, q.size);
    const base = this.links.base;
    const out = items.map((s) => {
      const { _links: _c, ...channel } = channelOut(s.channel, base);
      const { _links: _u, ...user } = userOut(s.user, base);
      return { channel, count: s.count, user };
    });
    return pagedModel('summaries', out, q, total, this.links.requestHref(req));
  }
}
