import { Body, Controller, Header, HttpCode, Post, Req, UseInterceptors } from '@nestjs/common';
import { NoFilesInterceptor } from '@nestjs/platform-express';
import type { Request } from 'express';
import { ApiException, TokenService } from '@chatfn/platform';
import { ApplicationsService } from '../applications/applications.service';

export interface AccessTokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
}

/** Client credentials from HTTP Basic (preferred) or the form body. */
export function clientCredentials(req: Request, body: Record<string, unknown>): { clientId: string; clientSecret: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (m) {
    const decoded = Buffer.from(m[1].trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return undefined;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    return { clientId: dec(decoded.slice(0, i)), clientSecret: dec(decoded.slice(i + 1)) };
  }
  if (typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
    return { clientId: body.client_id, clientSecret: body.client_secret };
  }
  return undefined;
}

/**
 * OAuth 2 token endpoint (client credentials grant), as the SDK calls it: `POST /oauth/token`, HTTP Basic
 * `client_id:client_secret`, `grant_type=client_credentials` as multipart/form-data or x-www-form-urlencoded.
 */
@Controller('oauth')
export class OAuthController {
  constructor(
    private readonly apps: ApplicationsService,
    private readonly tokens: TokenService,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @UseInterceptors(NoFilesInterceptor())
  async token(@Req() req: Request, @Body() rawBody: unknown): Promise<AccessTokenResponse> {
    const body = (rawBody && typeof rawBody === 'object' ? rawBody : {}) as Record<string, unknown>;
    const creds = clientCredentials(req, body);
    if (!creds) {
      throw ApiException.unauthorized('Client authentication is required: HTTP Basic client_id:client_secret');
    }
    const app = await this.apps.authenticate(creds.clientId, creds.clientSecret);
    if (!app) throw ApiException.unauthorized('Bad client credentials');
    const grant = body.grant_type;
    if (grant === undefined || grant === '') {
      throw ApiException.badRequest('grant_type: is required (client_credentials)', {
        errors: [{ field: 'grant_type', message: 'is required' }],
      });
    }
    if (grant !== 'client_credentials') {
      throw ApiException.badRequest(`grant_type: unsupported grant type ${JSON.stringify(grant)}; use client_credentials`, {
        errors: [{ field: 'grant_type', message: 'unsupported grant type' }],
      });
    }
    const { token, claims } = this.tokens.issue(app.id, app.clientId);
    return { access_token: token, token_type: 'bearer', expires_in: claims.exp - claims.iat, scope: claims.scope };
  }
}
