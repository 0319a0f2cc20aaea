import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenInfo } from '../src/auth/token-registry.js';
import { type CliProcess, cliResult, startNodeCli } from './helpers/cli-process.js';

describe('one CLI client: the node and its token found from the data dir', () => {
  let dataDir: string;
  let node: CliProcess & { url: string };

  const cliTokens = async () => {
    const listed = await cliResult(['token', 'list', '--data-dir', dataDir, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    return (JSON.parse(listed.stdout) as TokenInfo[]).filter((t) => t.source === 'cli' && t.name === 'cli');
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'allerac-cli-client-'));
    node = await startNodeCli(dataDir);
  }, 180_000);
  afterAll(async () => {
    node?.child.kill('SIGKILL');
    await node?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should find the node on --data-dir (not port 8080) and issue one token for two runs', async () => {
    const added = await cliResult([
      'memory',
      'add',
      'the',
      'boiler',
      'is',
      'in',
      'the',
      'attic',
      '--data-dir',
      dataDir,
    ]);
    expect(added.code, added.stderr).toBe(0);
    const first = await cliResult(['memory', 'list', '--data-dir', dataDir, '--json']);
    const second = await cliResult(['memory', 'list', '--data-dir', dataDir, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).memories.map((m: { text: string }) => m.text)).toEqual([
      'the boiler is in the attic',
    ]);
    const spaces = await cliResult(['space', 'list', '--data-dir', dataDir, '--json']);
    expect(spaces.code, spaces.stderr).toBe(0);
    const tokens = await cliTokens();
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.state).toBe('live');
  }, 120_000);

  it('should issue a new token only once the stored one is revoked', async () => {
    const [stored] = await cliTokens();
    const revoked = await cliResult(['token', 'revoke', stored?.id as string, '--data-dir', dataDir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const listed = await cliResult(['memory', 'list', '--data-dir', dataDir]);
    expect(listed.code, listed.stderr).toBe(0);
    const again = await cliResult(['space', 'list', '--data-dir', dataDir]);
    expect(again.code, again.stderr).toBe(0);
    const tokens = await cliTokens();
    expect(tokens.map((t) => t.state).sort()).toEqual(['live', 'revoked']);
  }, 120_000);

  it('should say that no node runs on a data dir, without creating it', async () => {
    const missing = join(dataDir, 'no-such-dir');
    const result = await cliResult(['memory', 'list', '--data-dir', missing]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`allerac: no node is running on the data dir ${missing}`);
    expect(existsSync(missing)).toBe(false);
  }, 60_000);
});
