import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveStartConfig } from '../src/config.js';
import { type RunningNode, startNode } from '../src/daemon.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

/** Runs the real CLI (Node 24 with the tsx loader); never throws, returns the exit code. */
async function allerac(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], {
      timeout: 120_000,
      env: { ...process.env, ALLERAC_BACKUP_PASSPHRASE: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('allerac backup (the command line)', () => {
  const work = mkdtempSync(join(tmpdir(), 'allerac-backup-cli-'));
  const dataDir = join(work, 'data');
  const passFile = join(work, 'pass');
  let node: RunningNode | undefined;

  beforeAll(async () => {
    writeFileSync(passFile, 'a long family passphrase\n');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'mesh.key'), `/key/swarm/psk/1.0.0/\n/base16/\n${'cd'.repeat(32)}\n`, {
      mode: 0o600,
    });
    const config = resolveStartConfig(
      {
        name: 'alice',
        dataDir,
        httpPort: '0',
        httpHost: '127.0.0.1',
        p2pPort: '0',
        ollamaUrl: 'http://127.0.0.1:9',
        logLevel: 'silent',
        backupDirs: work,
      },
      {},
    );
    node = await startNode(config, { logger: pino({ level: 'silent' }) });
    await node.store.settings.set('cli.marker', 42);
  }, 30_000);

  afterAll(async () => {
    await node?.close(1_000);
    rmSync(work, { recursive: true, force: true });
  });

  it('should export through the running node, and refuse to restore while it runs', async () => {
    const file = join(work, 'export.allerac-backup');
    const exported = await allerac(
      'backup',
      'export',
      file,
      '--data-dir',
      dataDir,
      '--passphrase-file',
      passFile,
    );
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('encrypted (includes the mesh key)');
    expect(existsSync(file)).toBe(true);
    const restore = await allerac(
      'backup',
      'restore',
      file,
      '--data-dir',
      dataDir,
      '--passphrase-file',
      passFile,
    );
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/the node is running .* needs it stopped/);
  }, 120_000);

  it('should create, list, verify and import with the node stopped, and refuse a damaged copy', async () => {
    await node?.close(1_000);
    node = undefined;
    const usb = join(work, 'usb');
    const missing = await allerac('backup', 'create', '--data-dir', dataDir, '--dir', usb);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist; if it is on a USB drive/);
    mkdirSync(usb);
    const created = await allerac('backup', 'create', '--data-dir', dataDir, '--dir', usb);
    expect(created.code).toBe(0);
    const file = created.stdout.split('\n')[0] ?? '';
    expect(file.startsWith(usb)).toBe(true);
    const listed = await allerac('backup', 'list', '--dir', usb);
    expect(listed.stdout).toContain(file);
    const verified = await allerac('backup', 'verify', file);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/settings: \d+ rows, identical after restore/);

    const damaged = join(work, 'damaged.allerac-backup');
    const bytes = readFileSync(file);
    bytes.writeUInt8((bytes.at(-100) ?? 0) ^ 0xff, bytes.length - 100);
    writeFileSync(damaged, bytes);
    const refused = await allerac('backup', 'verify', damaged);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/corrupted: its SHA-256 checksum does not match/);

    const other = join(work, 'other-node');
    const imported = await allerac(
      'backup',
      'import',
      join(work, 'export.allerac-backup'),
      '--data-dir',
      other,
      '--passphrase-file',
      passFile,
    );
    expect(imported.code).toBe(0);
    expect(existsSync(join(other, 'backups', 'export.allerac-backup'))).toBe(true);
    const wrong = join(work, 'wrong-pass');
    writeFileSync(wrong, 'not it');
    const badPass = await allerac(
      'backup',
      'verify',
      join(work, 'export.allerac-backup'),
      '--passphrase-file',
      wrong,
    );
    expect(badPass.stderr).toMatch(/wrong passphrase/);

    const restored = await allerac(
      'backup',
      'restore',
      join(other, 'backups', 'export.allerac-backup'),
      '--data-dir',
      other,
      '--passphrase-file',
      passFile,
    );
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/restored at schema \d+/);
    expect(readFileSync(join(other, 'mesh.key'), 'utf8')).toContain('cd'.repeat(32));
  }, 240_000);
});
