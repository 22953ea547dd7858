import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { ChatfnConfig } from '@chatfn/config';
import { ApiException } from '@chatfn/platform';

/**
 * The admin API (`/admin/*`) takes `Authorization: Bearer <CHATFN_ADMIN_TOKEN>`. Without a configured token the
 * admin API does not exist (404), so an installation never exposes it by accident.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly config: ChatfnConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const expected = this.config.env.CHATFN_ADMIN_TOKEN;
    if (!expected) {
      throw new ApiException(404, 'ResourceNotFoundError', 'The admin API is disabled: set CHATFN_ADMIN_TOKEN to enable it');
    }
    const req = ctx.switchToHttp().getRequest<Request>();
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const given = Buffer.from(m ? m[1].trim() : '');
    const want = Buffer.from(expected);
    if (given.length !== want.length || !timingSafeEqual(given, want)) {
      throw ApiException.unauthorized('A valid admin token is required (Authorization: Bearer <CHATFN_ADMIN_TOKEN>)');
    }
    return true;
  }
}
