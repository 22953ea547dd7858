import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ChatfnConfig } from '@chatfn/config';
import { joinUrl } from './hal';

/** Absolute URLs for HAL links, based on `CHATFN_PUBLIC_URL` (default `http://127.0.0.1:PORT`). */
@Injectable()
export class ApiLinks {
  /** e.g. `http://127.0.0.1:8080/v1` — the SDK's basePath. */
  readonly base: string;

  constructor(config: ChatfnConfig) {
    this.base = `${config.publicUrl}/v1`;
  }

  /** `base` + path, e.g. `href('/users/1')`. */
  href(path: string): string {
    return joinUrl(this.base, path);
  }

  /** The absolute URL of the request being served (query included): a list's `_links.self`. */
  requestHref(req: Request): string {
    return joinUrl(this.base.replace(/\/v1$/, ''), req.originalUrl);
  }
}
