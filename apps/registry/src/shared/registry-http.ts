import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ChatfnConfig } from '@chatfn/config';
import { isEventStoreError } from '@chatfn/event-store';
import { ApiException } from '@chatfn/platform';
import { pagedModel } from '../../../chat/src/shared/hal';
import { RegistryError, RegistryErrorCode } from './registry.error';

/** Maps registry domain errors to the SDK's ApiError; everything else is rethrown for the global filter. */
export function toApiError(e: unknown): unknown {
  if (e instanceof RegistryError) {
    switch (e.code) {
      case RegistryErrorCode.FUNCTION_NOT_FOUND:
      case RegistryErrorCode.VERSION_NOT_FOUND:
      case RegistryErrorCode.INVOCATION_NOT_FOUND:
      case RegistryErrorCode.RUNTIME_NOT_FOUND:
        return new ApiException(404, 'ResourceNotFoundError', e.message, e.properties);
      case RegistryErrorCode.INVALID_INPUT:
        return ApiException.badRequest(e.message, e.properties);
      case RegistryErrorCode.ALREADY_CURRENT_VERSION:
      case RegistryErrorCode.NOT_DEAD_LETTERED:
      case RegistryErrorCode.FUNCTION_ALREADY_EXISTS:
      case RegistryErrorCode.RUNTIME_ALREADY_EXISTS:
      case RegistryErrorCode.CONFLICT:
        return new ApiException(409, 'ConflictError', e.message, e.properties);
    }
  }
  if (isEventStoreError(e)) return new ApiException(409, 'ConcurrentModificationError', 'The resource was changed concurrently; retry');
  return e;
}

/** Runs `fn`, translating domain errors. */
export async function http<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toApiError(e);
  }
}

export interface HalLink {
  href: string;
}
export type HalLinks = Record<string, HalLink>;

/** Absolute links under the API base (`CHATFN_PUBLIC_URL` + `/v1`), HAL page models as the SDK reads them. */
@Injectable()
export class RegistryLinks {
  readonly base: string;
  constructor(config: ChatfnConfig) {
    this.base = `${config.publicUrl}/v1`;
  }

  links(rels: Record<string, string>): HalLinks {
    const out: HalLinks = {};
    for (const [rel, path] of Object.entries(rels)) out[rel] = { href: `${this.base}${path}` };
    return out;
  }

  requestHref(req: Request): string {
    return `${this.base.replace(/\/v1$/, '')}${req.originalUrl}`;
  }

  /** A HAL page of the SDK's shape, rendered by the chat platform's `pagedModel` (one implementation of paging links). */
  page<T>(rel: string, items: T[], paging: { page: number; size: number }, total: number, req: Request) {
    return pagedModel(rel, items, paging, total, this.requestHref(req));
  }
}

/** Parses a path id; anything but a positive integer is a 404 (it cannot name a resource). */
export function pathId(value: string, what: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value)) throw ApiException.notFound(what, value);
  return Number(value);
}
