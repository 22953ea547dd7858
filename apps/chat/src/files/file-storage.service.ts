import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { ChatfnConfig } from '@chatfn/config';
import { ApiException } from '@chatfn/platform';

export interface StoredFile {
  url: string;
  name: string;
  contentType: string;
  size: number;
}

/**
 * Uploaded files (display pictures, file messages). Local storage keeps them under `<CHATFN_DATA_DIR>/files/` and
 * serves them at `<public url>/files/<app>/<uuid>/<name>` (unguessable, no auth, like a CDN URL). S3 is not
 * implemented yet (501).
 */
@Injectable()
export class FileStorage {
  readonly root: string;

  constructor(private readonly config: ChatfnConfig) {
    this.root = join(config.dataDir, 'files');
  }

  async save(applicationId: number, file: { originalname: string; mimetype: string; buffer: Buffer }): Promise<StoredFile> {
    if (this.config.env.CHATFN_FILE_STORAGE !== 'local') throw ApiException.notImplemented('File upload to S3 storage');
    const name = safeName(file.originalname);
    const key = randomUUID();
    const dir = join(this.root, String(applicationId), key);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, name), file.buffer);
    await writeFile(join(dir, '.content-type'), file.mimetype || 'application/octet-stream');
    return {
      url: `${this.config.publicUrl}/files/${applicationId}/${key}/${encodeURIComponent(name)}`,
      name,
      contentType: file.mimetype || 'application/octet-stream',
      size: file.buffer.length,
    };
  }

  /** Absolute path of a stored file, or undefined if the parts do not name one safely. */
  pathOf(applicationId: string, key: string, name: string): string | undefined {
    if (!/^\d+$/.test(applicationId) || !/^[0-9a-f-]{36}$/.test(key)) return undefined;
    const p = resolve(this.root, applicationId, key, safeName(name));
    return p.startsWith(resolve(this.root) + sep) ? p : undefined;
  }
}

export function safeName(name: string): string {
  const base = (name || 'file').split(/[\\/]/).pop() ?? 'file';
  const cleaned = base.replace(/[^\w.\- ]+/g, '_').replace(/^\.+/, '').slice(0, 200);
  return cleaned || 'file';
}
