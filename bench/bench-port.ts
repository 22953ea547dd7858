import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (benchmarks start their own services). */
export function freePortForBench(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
