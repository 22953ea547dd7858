import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ApiException } from '@chatfn/platform';

export const EVENT_DEPTH_HEADER = 'x-chatfn-event-depth';

/** Parses the `X-Chatfn-Event-Depth` header value: absent → 0; otherwise an integer ≥ 0 or a 400. */
export function parseEventDepth(value: string | string[] | undefined): number {
  if (value === undefined || value === '') return 0;
  const text = Array.isArray(value) ? value[0] : value;
  if (!/^\d{1,6}$/.test(text.trim())) {
    throw ApiException.badRequest('X-Chatfn-Event-Depth: must be an integer >= 0', {
      errors: [{ field: 'X-Chatfn-Event-Depth', message: 'must be an integer >= 0' }],
    });
  }
  return Number(text.trim());
}

/**
 * Depth of the chat events this request causes: 0 for users and API clients; the function runtime's SDK client
 * sends `X-Chatfn-Event-Depth: n+1` when a function run at depth n calls the API.
 */
export const EventDepth = createParamDecorator((_: unknown, ctx: ExecutionContext): number => {
  const req = ctx.switchToHttp().getRequest<Request>();
  return parseEventDepth(req.headers[EVENT_DEPTH_HEADER]);
});
