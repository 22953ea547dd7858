import { MulterOptions } from '@nestjs/platform-express/multer/interfaces/multer-options.interface';
import { applyDefaultLimits, runMulter } from '@nestjs/platform-express/multer/multer/multer.utils';
import type { Request, Response } from 'express';

type MulterMiddleware = (req: Request, res: Response, next: (err?: unknown) => void) => void;
// multer comes with @nestjs/platform-express (whose FileInterceptor wraps it) and has no type declarations.
const multer = require(require.resolve('multer', { paths: [require.resolve('@nestjs/platform-express')] })) as (
  options: MulterOptions,
) => { single(field: string): MulterMiddleware };

/** A file received in a multipart body (multer's memory storage). */
export interface Upload {
  originalname: string;
  mimetype: string;
  buffer: Buffer;
  size: number;
}

/**
 * Reads a multipart body with at most one file in `field`, for routes that take JSON or multipart (sending a message,
 * a reply). It is called from the handler, after the guards (an unauthenticated upload is never read), and only for
 * a multipart request: the JSON requests of the hot path go through no interceptor at all, where Nest's interceptor
 * chain cost about 60 µs a request (an `AsyncResource.bind` and an Observable pipeline). Multer's errors become the
 * same HTTP errors as with `FileInterceptor` (e.g. 413 for a file over the limit).
 */
export class MultipartFileReader {
  private readonly single: MulterMiddleware;

  constructor(field: string, options: MulterOptions) {
    this.single = multer(applyDefaultLimits({ ...options })).single(field);
  }

  /** The form fields and the file of a multipart request; undefined for any other request. */
  async read(req: Request, res: Response): Promise<{ body: unknown; file?: Upload } | undefined> {
    const type = req.headers['content-type'] ?? '';
    if (!type.toLowerCase().startsWith('multipart/')) return undefined;
    await runMulter(this.single, req, res);
    return { body: req.body as unknown, file: (req as Request & { file?: Upload }).file };
  }
}
