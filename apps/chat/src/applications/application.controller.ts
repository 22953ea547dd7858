import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { ApiException, AppId, ApplicationAuthGuard, parseInput } from '@chatfn/platform';
import { ApiLinks } from '../shared/api-links';
import { toApplicationResource, toApplicationSettingsResource } from './application.mapper';
import { ApplicationSettingsSchema } from './application.schema';
import { ApplicationsService } from './applications.service';

/** The SDK's ApplicationApi. */
@Controller('v1/application')
@UseGuards(ApplicationAuthGuard)
export class ApplicationController {
  constructor(
    private readonly apps: ApplicationsService,
    private readonly links: ApiLinks,
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

  // TODO(chat-B): read-receipt summaries need messages/read receipts; answer 501 until they exist.
  @Get('message-read-receipt-summaries')
  readReceiptSummaries(): never {
    throw ApiException.notImplemented('ApplicationApi.retrieveApplicationMessageReadReceiptSummaries');
  }
}
