import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { tarOf } from '../src/docker/tar-writer';

/** A package served by the local registry: its package.json fields (version 1.0.0). */
export interface LocalPackage {
  name: string;
  scripts?: Record<string, string>;
  files?: Record<string, string>;
}

export interface LocalNpmRegistry {
  url: string;
  /** Paths requested, in order (for assertions and debugging). */
  requests: string[];
  close(): Promise<void>;
}

const UPSTREAM = 'https://registry.npmjs.org';

/**
 * A tiny npm registry on 127.0.0.1: serves `packages` itself (packument + tarball built with the builder's own tar
 * writer and gzip) and passes every other request through to the public registry, so the default dependencies
 * (chatkitty and its tree) still install when the build is pointed here with CHATFN_NPM_REGISTRY.
 */
export async function startLocalNpmRegistry(packages: LocalPackage[]): Promise<LocalNpmRegistry> {
  const requests: string[] = [];
  const tarballs = new Map<string, Buffer>();
  const packuments = new Map<string, (base: string) => unknown>();
  for (const p of packages) {
    const pkgJson = JSON.stringify({ name: p.name, version: '1.0.0', license: 'MIT', main: 'index.js', scripts: p.scripts ?? {} }, null, 2);
    const tgz = gzipSync(
      tarOf([
        { type: 'dir', name: 'package' },
        { type: 'file', name: 'package/package.json', data: pkgJson },
        { type: 'file', name: 'package/index.js', data: 'module.exports = 1;\n' },
        ...Object.entries(p.files ?? {}).map(([name, data]) => ({ type: 'file' as const, name: `package/${name}`, data })),
      ]),
    );
    const file = `${p.name}-1.0.0.tgz`;
    tarballs.set(`/${p.name}/-/${file}`, tgz);
    const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
    const shasum = createHash('sha1').update(tgz).digest('hex');
    packuments.set(`/${p.name}`, (base) => ({
      name: p.name,
      'dist-tags': { latest: '1.0.0' },
      versions: {
        '1.0.0': { name: p.name, version: '1.0.0', scripts: p.scripts ?? {}, dist: { tarball: `${base}/${p.name}/-/${file}`, integrity, shasum } },
      },
    }));
  }

  const handle = async (req: IncomingMessage, res: ServerResponse, base: string) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(path);
    const own = packuments.get(decodeURIComponent(path));
    if (own) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(own(base)));
    }
    const tgz = tarballs.get(path);
    if (tgz) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tgz.length });
      return res.end(tgz);
    }
    const up = await fetch(`${UPSTREAM}${req.url}`, {
      method: req.method === 'HEAD' ? 'HEAD' : 'GET',
      headers: { accept: String(req.headers.accept ?? '*/*') },
      redirect: 'follow',
    });
    const body = Buffer.from(await up.arrayBuffer());
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res, base).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: e.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
