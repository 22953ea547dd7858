import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** One entry of a build context. */
export type TarEntry =
  | { type: 'file'; name: string; data: Buffer | string; mode?: number }
  | { type: 'dir'; name: string; mode?: number }
  | { type: 'symlink'; name: string; target: string };

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mode: number, typeflag: string, linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(0, 12), 136, 12, 'ascii'); // mtime 0: identical content → identical context (cache hits)
  h.fill(' ', 148, 156); // checksum placeholder
  h.write(typeflag, 156, 1, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

function pad(size: number): Buffer {
  const rest = size % BLOCK;
  return rest ? Buffer.alloc(BLOCK - rest) : Buffer.alloc(0);
}

/** A PAX extended header carrying a long path/linkpath (ustar's name field holds 100 bytes). */
function pax(name: string, linkname?: string): Buffer[] {
  const records: string[] = [];
  const record = (key: string, value: string) => {
    const body = ` ${key}=${value}\n`;
    let len = Buffer.byteLength(body) + 1;
    while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
    records.push(`${len}${body}`);
  };
  if (Buffer.byteLength(name) > 99) record('path', name);
  if (linkname && Buffer.byteLength(linkname) > 99) record('linkpath', linkname);
  if (!records.length) return [];
  const data = Buffer.from(records.join(''));
  return [header('PaxHeader', data.length, 0o644, 'x'), data, pad(data.length)];
}

/** Serialises entries to an uncompressed tar archive (ustar + PAX for long names), all owned by root. */
export function tarOf(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.type === 'file') {
      const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
      parts.push(...pax(e.name), header(e.name.slice(0, 99), data.length, e.mode ?? 0o644, '0'), data, pad(data.length));
    } else if (e.type === 'dir') {
      const name = e.name.endsWith('/') ? e.name : `${e.name}/`;
      parts.push(...pax(name), header(name.slice(0, 99), 0, e.mode ?? 0o755, '5'));
    } else {
      parts.push(...pax(e.name, e.target), header(e.name.slice(0, 99), 0, 0o777, '2', e.target.slice(0, 99)));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** Every file, directory and symlink under `dir`, named `prefix/<relative path>`, in a stable order. */
export async function entriesOfDirectory(dir: string, prefix: string): Promise<TarEntry[]> {
  const out: TarEntry[] = [{ type: 'dir', name: prefix }];
  const walk = async (abs: string, rel: string) => {
    const names = (await readdir(abs)).sort();
    for (const n of names) {
      const a = join(abs, n);
      const r = `${rel}/${n}`;
      const st = await lstat(a);
      if (st.isSymbolicLink()) out.push({ type: 'symlink', name: r, target: await readlink(a) });
      else if (st.isDirectory()) {
        out.push({ type: 'dir', name: r, mode: st.mode });
        await walk(a, r);
      } else if (st.isFile()) out.push({ type: 'file', name: r, data: await readFile(a), mode: st.mode });
    }
  };
  await walk(dir, prefix);
  return out;
}

/** Reads the files of a tar archive (as returned by Docker's archive API): name → content. */
export function filesOfTar(buf: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const rawName = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const prefix = h.toString('utf8', 345, 500).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('ascii', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const data = buf.subarray(off + BLOCK, off + BLOCK + size);
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      longName = m?.[1];
      continue;
    }
    const name = longName ?? (prefix ? `${prefix}/${rawName}` : rawName);
    longName = undefined;
    if (type === '0' || type === '\0') files.set(name, Buffer.from(data));
  }
  return files;
}
