import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiException, ApplicationAuthGuard } from '@chatfn/platform';

/**
 * UsersApi operations that return channels, messages and notifications belong to the channels/messages features
 * (chat-B). Until those features serve them, these routes answer 501 deliberately. This controller's module is
 * imported LAST in ChatModule, so a feature module that declares the same route earlier takes precedence;
 * TODO(chat-B): delete each method here once its real route exists.
 */
@Controller('v1/users/:id')
@UseGuards(ApplicationAuthGuard)
export class UserActivityController {
  @Get('channels')
  channels(): never {
    throw ApiException.notImplemented('UsersApi.listUserChannels');
  }

  @Get('messages/unread/count')
  unreadCount(): never {
    throw ApiException.notImplemented('UsersApi.countUserUnreadMessages');
  }

  @Get('messages')
  messages(): never {
    throw ApiException.notImplemented('UsersApi.listUserMessages');
  }

  @Get('notifications')
  notifications(): never {
    throw ApiException.notImplemented('UsersApi.listUserNotifications');
  }
}
