import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseInvitationCode } from '@allerac/mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProcess, startNodeProcess } from './helpers/node-process.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
const run = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args], { timeout: 30_000 });

describe('cli: pair and peers', () => {
  let alice: TestNode;
  let bob: NodeProcess;

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
    bob = await startNodeProcess({
      name: 'bob',
      ollamaUrl: alice.sim!.url,
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    await waitFor(
      () => alice.node.mesh.peers().some((p) => p.name === 'bob' && p.status === 'online'),
      30_000,
      'bob',
    );
  }, 120_000);

  afterAll(async () => {
    await bob?.stop();
    await alice?.teardown();
  });

  it('should print an invitation with a QR code, which a machine started with --join uses to join', async () => {
    const { stdout } = await run('pair', '--data-dir', alice.dataDir);
    const [code = '', ...rest] = stdout.split('\n');
    const invitation = parseInvitationCode(code);
    expect(invitation.host).toBe('127.0.0.1');
    expect(rest.join('\n')).toMatch(/[▀▄█]/);
    expect(stdout).toContain(`allerac start --join ${code}`);
    expect(stdout).not.toContain(readFileSync(join(alice.dataDir, 'mesh.key'), 'utf8').split('\n')[2]);
    const charlie = await startNodeProcess({
      name: 'charlie',
      ollamaUrl: alice.sim!.url,
      bootstrap: [],
      join: code,
    });
    try {
      await waitFor(
        () => alice.node.mesh.peers().some((p) => p.name === 'charlie' && p.status === 'online'),
        30_000,
        'alice to see charlie, who joined with the code',
      );
    } finally {
      await charlie.stop();
    }
    const json = JSON.parse((await run('pair', '--data-dir', alice.dataDir, '--json')).stdout) as {
      code: string;
      ttlSeconds: number;
    };
    expect(parseInvitationCode(json.code).host).toBe('127.0.0.1');
    expect(json.code).not.toBe(code);
    expect(json.ttlSeconds).toBeGreaterThan(590);
  }, 120_000);

  it('should list the peers of the running node, as a table and as JSON', async () => {
    const table = await run('peers', '--data-dir', bob.dataDir);
    expect(table.stdout).toContain('alice');
    const json = JSON.parse((await run('peers', '--data-dir', bob.dataDir, '--json')).stdout) as Array<{
      name: string;
    }>;
    expect(json.map((p) => p.name)).toEqual(['alice']);
  });

  it('should report where the node stands with the mesh key in /health, and nothing more', async () => {
    const health = (await (await fetch(`${alice.node.url}/health`)).json()) as { mesh?: unknown };
    expect(health.mesh).toEqual({ state: 'current', epoch: 0 });
  });

  it('should say clearly when no node runs on a data dir', async () => {
    await expect(run('peers', '--data-dir', join(alice.dataDir, 'nowhere'))).rejects.toThrow(
      /no running node/,
    );
  });
});
