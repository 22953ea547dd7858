import { Controller, Get, Param, Res } from '@nestjs/common';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Response } from 'express';
import { ApiException } from '@chatfn/platform';
import { FileStorage } from './file-storage.service';

/** Serves locally stored uploads. */
@Controller('files')
export class FilesController {
  constructor(private readonly storage: FileStorage) {}

  @Get(':app/:key/:name')
  async get(@Param('app') app: string, @Param('key') key: string, @Param('name') name: string, @Res() res: Response): Promise<void> {
    const path = this.storage.pathOf(app, key, name);
    const found = path && (await stat(path).catch(() => undefined));
    if (!path || !found || !found.isFile()) throw ApiException.notFound('File');
    const type = await readFile(join(dirname(path), '.content-type'), 'utf8').catch(() => 'application/octet-stream');
    res.setHeader('Content-Type', type);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.sendFile(path);
  }
}
