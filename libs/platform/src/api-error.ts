import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';

/** The `chatkitty` SDK's `ApiError` body: `{error, explanation?, message, properties?, timestamp}`. */
export interface ApiErrorBody {
  error: string;
  explanation?: string;
  message: string;
  properties?: Record<string, unknown>;
  timestamp: string;
}

/** The one exception type HTTP handlers throw for expected failures; the filter renders it as an ApiError. */
export class ApiException extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly properties?: Record<string, unknown>,
    readonly explanation?: string,
  ) {
    super(message);
    this.name = error;
  }

  static badRequest(message: string, properties?: Record<string, unknown>): ApiException {
    return new ApiException(400, 'InvalidRequestError', message, properties);
  }
  static notFound(what: string, id?: string | number): ApiException {
    return new ApiException(
      404,
      'ResourceNotFoundError',
      id === undefined ? `${what} not found` : `${what} with id ${id} not found`,
    );
  }
  static unauthorized(message = 'Full authentication is required to access this resource'): ApiException {
    return new ApiException(401, 'AuthenticationError', message);
  }
  static forbidden(message: string): ApiException {
    return new ApiException(403, 'AccessDeniedError', message);
  }
  static conflict(message: string, properties?: Record<string, unknown>): ApiException {
    return new ApiException(409, 'DuplicateResourceError', message, properties);
  }
  static notImplemented(operation: string): ApiException {
    return new ApiException(
      501,
      'NotImplementedError',
      `${operation} is not implemented by this chatfn installation`,
      undefined,
      'This SDK operation is recognised but not supported yet; see the README for the list of supported operations.',
    );
  }
}

export function apiErrorBody(e: ApiException): ApiErrorBody {
  const body: ApiErrorBody = { error: e.error, message: e.message, timestamp: new Date().toISOString() };
  if (e.explanation) body.explanation = e.explanation;
  if (e.properties) body.properties = e.properties;
  return body;
}

const STATUS_ERRORS: Record<number, string> = {
  400: 'InvalidRequestError',
  401: 'AuthenticationError',
  403: 'AccessDeniedError',
  404: 'ResourceNotFoundError',
  405: 'MethodNotAllowedError',
  409: 'DuplicateResourceError',
  413: 'PayloadTooLargeError',
  415: 'UnsupportedMediaTypeError',
  501: 'NotImplementedError',
};

/** Maps every thrown thing to an ApiError body; input problems are 4xx, only our own bugs are 500. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiError');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    const e = toApiException(exception);
    if (e.status >= 500 && e.status !== 501) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (res.headersSent) return;
    res.status(e.status).json(apiErrorBody(e));
  }
}

export function toApiException(exception: unknown): ApiException {
  if (exception instanceof ApiException) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    let message = exception.message;
    if (typeof response === 'object' && response && 'message' in response) {
      const m = (response as { message: unknown }).message;
      message = Array.isArray(m) ? m.join('; ') : String(m);
    }
    if (status === 404 && /^Cannot (GET|POST|PUT|PATCH|DELETE|HEAD)/.test(message)) {
      return new ApiException(404, 'ResourceNotFoundError', `No route for ${message.replace(/^Cannot /, '')}`);
    }
    return new ApiException(status, STATUS_ERRORS[status] ?? (status >= 500 ? 'InternalServerError' : 'InvalidRequestError'), message);
  }
  // body-parser errors (malformed JSON, oversize body, bad charset) carry status/type.
  const bp = exception as { status?: number; statusCode?: number; type?: string; message?: string };
  const bpStatus = bp?.status ?? bp?.statusCode;
  if (typeof bpStatus === 'number' && bpStatus >= 400 && bpStatus < 500) {
    if (bp.type === 'entity.parse.failed') return ApiException.badRequest(`Malformed JSON body: ${bp.message}`);
    if (bp.type === 'entity.too.large') {
      return new ApiException(413, 'PayloadTooLargeError', 'Request body is larger than the allowed maximum');
    }
    return new ApiException(bpStatus, STATUS_ERRORS[bpStatus] ?? 'InvalidRequestError', bp.message ?? 'Bad request');
  }
  const data = postgresDataException(exception);
  if (data) return ApiException.badRequest(`Invalid value: ${data}`);
  return new ApiException(
    HttpStatus.INTERNAL_SERVER_ERROR,
    'InternalServerError',
    'An unexpected error occurred',
  );
}

/**
 * The message of a PostgreSQL "data exception" (SQLSTATE class 22: a value out of range, not valid for its type, not
 * encodable) raised by a query, directly from `pg` or wrapped by TypeORM; undefined for anything else. Such an error
 * means a request value got past validation to the database: still the client's to fix (400), not a server fault.
 */
function postgresDataException(exception: unknown): string | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const e = exception as { code?: unknown; severity?: unknown; driverError?: { code?: unknown; message?: unknown }; message?: unknown };
  const fromDriver = e.driverError && typeof e.driverError.code === 'string' ? e.driverError : undefined;
  const code = fromDriver?.code ?? (typeof e.severity === 'string' ? e.code : undefined);
  if (typeof code !== 'string' || !/^22[0-9A-Z]{3}$/.test(code)) return undefined;
  return String(fromDriver?.message ?? e.message);
}
