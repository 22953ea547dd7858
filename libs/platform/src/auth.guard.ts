import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiException } from './api-error';
import { AccessTokenClaims, TokenService } from './token.service';

export interface AuthenticatedRequest extends Request {
  applicationId?: number;
  token?: AccessTokenClaims;
}

/** Requires a valid bearer access token; the request is then scoped to the token's application. */
@Injectable()
export class ApplicationAuthGuard implements CanActivate {
  constructor(private readonly tokens: TokenService) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) throw ApiException.unauthorized();
    const claims = this.tokens.verify(m[1].trim());
    if (!claims) throw ApiException.unauthorized('Access token is invalid or expired');
    req.applicationId = Number(claims.sub);
    req.token = claims;
    return true;
  }
}

/** The id of the application the request's token belongs to. */
export const AppId = createParamDecorator((_: unknown, ctx: ExecutionContext): number => {
  const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  if (req.applicationId === undefined) throw ApiException.unauthorized();
  return req.applicationId;
});
