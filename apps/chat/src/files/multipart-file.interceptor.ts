import { CallHandler, ExecutionContext, Injectable, mixin, NestInterceptor, Type } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { MulterOptions } from '@nestjs/platform-express/multer/interfaces/multer-options.interface';
import type { Request } from 'express';
import { Observable } from 'rxjs';

/**
 * `FileInterceptor(field, options)` for routes that take JSON or multipart (sending a message, a reply): multer runs
 * only for a multipart body, so the JSON requests of the hot path skip its per-request setup.
 */
export function MultipartFileInterceptor(field: string, options: MulterOptions): Type<NestInterceptor> {
  const Multer = FileInterceptor(field, options);

  @Injectable()
  class OnlyForMultipart implements NestInterceptor {
    private readonly multer = new Multer();

    intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
      const type = ctx.switchToHttp().getRequest<Request>().headers['content-type'] ?? '';
      return type.toLowerCase().startsWith('multipart/') ? this.multer.intercept(ctx, next) : next.handle();
    }
  }
  return mixin(OnlyForMultipart);
}
