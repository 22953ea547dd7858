import { Injectable, NestMiddleware } from '@nestjs/common';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { ChatfnConfig } from '@chatfn/config';
import { apiErrorBody, toApiException } from '@chatfn/platform';

/**
 * The SDK sends user merge patches as `application/json+merge-patch` (sic), which the platform's JSON parser does
 * not match (`application/*+json` needs the `+json` suffix). Parse it here; errors render as ApiError 400.
 */
@Injectable()
export class MergePatchBodyMiddleware implements NestMiddleware {
  private readonly parser;

  constructor(config: ChatfnConfig) {
    this.parser = express.json({ limit: config.env.CHATFN_MAX_BODY, type: ['application/json+merge-patch'] });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    this.parser(req, res, (err?: unknown) => {
      if (err) {
        res.status(400).json(apiErrorBody(toApiException(err)));
        return;
      }
      next();
    });
  }
}
