import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesOfTar, tarOf } from './tar-writer';

describe('tarOf', () => {
  it('writes an archive GNU tar extracts, long names and symlinks included', () => {
    const long = `node_modules/${'a'.repeat(60)}/${'b'.repeat(60)}/index.js`;
    const buf = tarOf([
      { type: 'file', name: 'Dockerfile', data: 'FROM x\n' },
      { type: 'dir', name: 'node_modules' },
      { type: 'file', name: long, data: 'module.exports = 1\n', mode: 0o755 },
      { type: 'symlink', name: 'node_modules/link', target: `${'c'.repeat(120)}/x` },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'tar-'));
    try {
      writeFileSync(join(dir, 'a.tar'), buf);
      execFileSync('tar', ['-xf', 'a.tar'], { cwd: dir });
      expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toBe('FROM x\n');
      expect(readFileSync(join(dir, long), 'utf8')).toBe('module.exports = 1\n');
      expect(readlinkSync(join(dir, 'node_modules/link'))).toBe(`${'c'.repeat(120)}/x`);
      expect(filesOfTar(buf).get(long)?.toString()).toBe('module.exports = 1\n');
      const gnu = execFileSync('tar', ['-cf', '-', 'Dockerfile'], { cwd: dir });
      expect(filesOfTar(gnu).get('Dockerfile')?.toString()).toBe('FROM x\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
