import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DATA_DIR_LOCK_FILE, DataDirLockedError } from '../src/data-dir-lock.js';
import { type CliProcess, runCli, startNodeCli } from './helpers/cli-process.js';

describe('one node per data dir', () => {
  const dirs: string[] = [];
  const running: CliProcess[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const run of running.splice(0)) {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
      await run.exited;
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('should make a second node on the same data dir exit at once, non-zero, naming the pid and URL that hold it', async () => {
    const dataDir = tempDir();
    const first = await startNodeCli(dataDir);
    running.push(first);
    const runtimeBefore = readFileSync(join(dataDir, 'node.json'), 'utf8');

    const second = runCli(['start', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0']);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(
      `allerac: the data dir ${dataDir} is in use by another node: pid ${first.child.pid}, ${first.url}.`,
    );
    // At once: refused before the store is opened, so it never logged a start or a shutdown.
    expect(second.stdout()).toBe('');
    // The first node is untouched: still serving, still the one the CLI finds.
    expect(readFileSync(join(dataDir, 'node.json'), 'utf8')).toBe(runtimeBefore);
    expect((await fetch(`${first.url}/health`)).ok).toBe(true);
  }, 180_000);

  it('should take over the lock of a node that was killed, and free it on a clean stop', async () => {
    const dataDir = tempDir();
    const first = await startNodeCli(dataDir);
    running.push(first);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(dataDir, DATA_DIR_LOCK_FILE))).toBe(true);

    const second = await startNodeCli(dataDir);
    running.push(second);
    expect(JSON.parse(readFileSync(join(dataDir, DATA_DIR_LOCK_FILE), 'utf8')).pid).toBe(second.child.pid);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(existsSync(join(dataDir, DATA_DIR_LOCK_FILE))).toBe(false);
  }, 240_000);

  it('should take over a lock whose pid now belongs to another process, or from before a reboot', () => {
    const dataDir = tempDir();
    const file = join(dataDir, DATA_DIR_LOCK_FILE);
    // The parent process is alive, but it is not the holder: its start time differs.
    writeFileSync(file, JSON.stringify({ pid: process.ppid, startTicks: '1', purpose: 'node', since: '' }));
    acquireDataDirLock(dataDir).release();
    writeFileSync(
      file,
      JSON.stringify({ pid: process.ppid, bootId: 'another-boot', purpose: 'node', since: '' }),
    );
    acquireDataDirLock(dataDir).release();
    // A torn write (the holder died between create and write) holds nothing.
    writeFileSync(file, '');
    const lock = acquireDataDirLock(dataDir);
    expect(() => acquireDataDirLock(dataDir)).toThrow(DataDirLockedError);
    lock.release();
    lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('should refuse while the recorded process is alive', () => {
    const dataDir = tempDir();
    writeFileSync(
      join(dataDir, DATA_DIR_LOCK_FILE),
      JSON.stringify({ pid: process.ppid, purpose: 'admin reset-password', since: '' }),
    );
    expect(() => acquireDataDirLock(dataDir)).toThrow(
      `in use by another process (admin reset-password): pid ${process.ppid}`,
    );
  });
});
