import { Controller, Post, UseGuards } from '@nestjs/common';
import { ApiException, ApplicationAuthGuard } from '@chatfn/platform';

/** The SDK's AnalyticsApi: recognised, not implemented (501 ApiError). */
@Controller('v1/analytics')
@UseGuards(ApplicationAuthGuard)
export class AnalyticsController {
  @Post('messages')
  messages(): never {
    throw ApiException.notImplemented('AnalyticsApi.exportMessageAnalytics');
  }

  @Post('users')
  users(): never {
    throw ApiException.notImplemented('AnalyticsApi.exportUserAnalytics');
  }
}
