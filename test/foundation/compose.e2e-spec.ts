import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

describe('docker-compose.yml', () => {
  it('is a valid compose file (docker-compose config)', () => {
    const r = spawnSync('docker-compose', ['--env-file', 'deploy/compose.env.example', 'config', '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.error).toBeUndefined();
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.status).toBe(0);
  });

  it('runs every service on its own', () => {
    const r = spawnSync('docker-compose', ['--env-file', 'deploy/compose.env.example', 'config', '--services'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const services = r.stdout.trim().split('\n').sort();
    expect(services).toEqual(expect.arrayContaining(['builder', 'chat', 'executor', 'kafka', 'postgres', 'registry', 'router']));
  });
});
