import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { waitFor } from './helpers/test-node.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');

/** Starts `allerac start` in a child process and resolves with its URL once it listens. */
function startDaemon(dataDir: string, ollamaUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'start',
      '--name',
      'crashy',
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--p2p-port',
      '0',
      '--ollama-url',
      ollamaUrl,
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ALLERAC_JOIN: '' } },
  );
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`daemon did not start: ${buffered.slice(-2000)}`)),
      60_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const text of buffered.split('\n').slice(0, -1)) {
        if (!text.includes('allerac node started')) continue;
        const { url } = JSON.parse(text) as { url: string };
        clearTimeout(timer);
        resolve({ child, url });
        return;
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code}: ${buffered.slice(-2000)}`));
    });
  });
}

/** Resolves once the child has exited, whether or not that already happened. */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('memories survive a SIGKILL', () => {
  let sim: OllamaSim;
  let dataDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: ['all-minilm:latest'] });
    dataDir = mkdtempSync(join(tmpdir(), 'allerac-crash-'));
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await sim?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should keep every acknowledged write after the process is killed mid-writes', async () => {
    const token = issueAdminToken(dataDir, 'test');
    const first = await startDaemon(dataDir, sim.url);
    children.push(first.child);
    const acknowledged: string[] = [];
    const write = async (i: number) => {
      const response = await fetch(`${first.url}/allerac/v1/memories`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          text: `crash test memory number ${i}`,
          space: i % 2 === 0 ? 'household' : undefined,
        }),
      });
      if (response.status === 201) acknowledged.push(((await response.json()) as { id: string }).id);
    };
    await fetch(`${first.url}/allerac/v1/spaces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'household', peers: 'all' }),
    });
    // Four writers run until the kill; their later requests fail, which is fine: only acks count.
    let stop = false;
    const writers = [0, 1, 2, 3].map(async (w) => {
      for (let i = 0; i < 500 && !stop; i++) await write(w * 1000 + i).catch(() => {});
    });
    await waitFor(() => acknowledged.length >= 20, 60_000, '20 acknowledged writes');
    first.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await exited(first.child);

    const second = await startDaemon(dataDir, sim.url);
    children.push(second.child);
    const missing: string[] = [];
    for (const id of acknowledged) {
      const response = await fetch(`${second.url}/allerac/v1/memories/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (response.status !== 200) missing.push(id);
    }
    expect(missing).toEqual([]);
    const spaces = (await (
      await fetch(`${second.url}/allerac/v1/spaces`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { spaces: Array<{ memories: number }> };
    expect(spaces.spaces[0]?.memories).toBeGreaterThan(0);
    second.child.kill('SIGTERM');
    await exited(second.child);
  }, 180_000);
});
