import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { resolveStartConfig } from '../src/config.js';
import { type RunningNode, startNode } from '../src/daemon.js';

/** Every file and directory under `dir` whose mode lets anyone but the owner in. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) found.push(`${(stat.mode & 0o777).toString(8)} ${path}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

describe('the data dir after start', () => {
  const root = mkdtempSync(join(tmpdir(), 'allerac-modes-'));
  const dataDir = join(root, 'data');
  const unrelated = join(dataDir, 'photos');
  let node: RunningNode | undefined;
  const umask = process.umask();

  beforeAll(async () => {
    // A data dir left by an older version: world-readable files, and a directory the node does not own.
    process.umask(0o022);
    mkdirSync(unrelated, { recursive: true });
    writeFileSync(join(dataDir, 'mesh-state.json'), '{}', { mode: 0o666 });
    chmodSync(join(dataDir, 'mesh-state.json'), 0o666);
    chmodSync(dataDir, 0o755);
    writeFileSync(join(unrelated, 'holiday.jpg'), 'x', { mode: 0o644 });
    const config = resolveStartConfig(
      {
        name: 'alice',
        dataDir,
        httpPort: '0',
        httpHost: '127.0.0.1',
        p2pPort: '0',
        ollamaUrl: 'http://127.0.0.1:9',
        logLevel: 'silent',
        p2pHost: '127.0.0.1',
        mdns: 'off',
      },
      {},
    );
    node = await startNode(config, { logger: pino({ level: 'silent' }) });
  }, 60_000);

  afterAll(async () => {
    await node?.close(1_000);
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('should keep the data dir 0700 and its files 0600, the database included', async () => {
    // Files written while running: a token, a backup, the mesh's own state.
    const token = issueAdminToken(dataDir, 'test');
    const backup = await fetch(`${node?.url}/allerac/v1/backups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(backup.status).toBe(201);
    expect(process.umask()).toBe(0o077);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const db = join(dataDir, 'db');
    expect(readdirSync(db).length).toBeGreaterThan(10);
    const open = openToOthers(dataDir).filter((entry) => !entry.includes(unrelated));
    expect(open).toEqual([]);
  });

  it('should leave directories it does not own as they were', () => {
    expect(statSync(join(unrelated, 'holiday.jpg')).mode & 0o777).toBe(0o644);
  });
});
