import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProgressBar, plainProgressPrinter } from '../src/models/home-models-cli.js';
import { fixedSystem } from './helpers/fixed-system.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
const run = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args], { timeout: 60_000 });
const GB = 1e9;

describe('cli: allerac models', () => {
  let kitchen: TestNode;

  beforeAll(async () => {
    kitchen = await startTestNode({
      name: 'kitchen',
      sim: { profile: 'fast', models: ['llama3.2:3b', 'all-minilm:latest'] },
      system: fixedSystem({ ramTotal: 16 * GB, ramFree: 12 * GB }),
    });
  }, 60_000);
  afterAll(async () => {
    await kitchen?.teardown();
  });

  it('should draw a bar on a terminal and print a line per status and quarter in a pipe', () => {
    expect(formatProgressBar({ status: 'pulling 6a0746', total: 2 * GB, completed: 0.9 * GB }, 80)).toBe(
      `pulling 6a0746 [${'#'.repeat(18)}${' '.repeat(22)}]  45% 0.9 GB/2.0 GB`,
    );
    expect(formatProgressBar({ status: 'verifying sha256 digest' }, 80)).toBe('verifying sha256 digest');
    const lines: string[] = [];
    const print = plainProgressPrinter((line) => lines.push(line));
    print({ status: 'pulling manifest' });
    for (let done = 0; done <= 100; done += 5) print({ status: 'pulling abc', total: 100, completed: done });
    print({ status: 'success' });
    expect(lines).toEqual([
      'pulling manifest',
      'pulling abc 0%',
      'pulling abc 25%',
      'pulling abc 50%',
      'pulling abc 75%',
      'pulling abc 100%',
      'success',
    ]);
  });

  it('should list the models against the machines and advise on one', async () => {
    const { stdout } = await run('models', 'list', '--data-dir', kitchen.dataDir);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toMatch(/^MODEL\s+SIZE\s+kitchen$/);
    expect(rows[0]).toMatch(/^llama3\.2:3b\s+2\.0 GB\s+present$/);
    const advice = await run('models', 'advise', 'llama3.2:3b', '--data-dir', kitchen.dataDir);
    expect(advice.stdout.trim()).toBe(
      'llama3.2:3b needs ~2.4 GB; kitchen has 12 GB free: it is there already.',
    );
  });

  it('should refuse to pull a model that would freeze the machine, naming why', async () => {
    const refused = run('models', 'pull', 'llama3.1:70b', '--data-dir', kitchen.dataDir);
    await expect(refused).rejects.toMatchObject({ code: 1 });
    const { stderr } = (await refused.catch((error: { stderr: string }) => error)) as { stderr: string };
    expect(stderr).toContain('Pulling llama3.1:70b onto kitchen would freeze it: it needs ~50 GB');
    expect(stderr).toContain('--force');
  });

  it('should pull with plain progress lines when stdout is not a terminal', async () => {
    const { stdout } = await run('models', 'pull', 'gemma3:4b', '--data-dir', kitchen.dataDir);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('pulling manifest');
    expect(lines).toContain('verifying sha256 digest');
    expect(lines.at(-1)).toBe('success');
    expect(lines.some((line) => /^pulling [0-9a-f]+ 100%$/.test(line))).toBe(true);
    const names = (await new Ollama({ host: kitchen.sim!.url }).list()).models.map((m) => m.name);
    expect(names).toContain('gemma3:4b');
  });

  it("should delete the home's last copy only with --yes", async () => {
    const refused = await run(
      'models',
      'rm',
      'gemma3:4b',
      '--node',
      'kitchen',
      '--data-dir',
      kitchen.dataDir,
    ).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toContain(
      "kitchen holds the home's last copy of gemma3:4b: deleting it means downloading it again from the internet; add --yes to delete it",
    );
    const { stdout } = await run(
      'models',
      'rm',
      'gemma3:4b',
      '--node',
      'kitchen',
      '--yes',
      '--data-dir',
      kitchen.dataDir,
    );
    expect(stdout.trim()).toBe('deleted gemma3:4b from kitchen; no copy is left in the home');
    const names = (await new Ollama({ host: kitchen.sim!.url }).list()).models.map((m) => m.name);
    expect(names).not.toContain('gemma3:4b');
  });
});

describe('cli: allerac models copy', () => {
  const dirs: string[] = [];
  let alice: TestNode;
  let bob: TestNode;
  const store = () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-cli-models-'));
    dirs.push(dir);
    return dir;
  };
  const tags = async (node: TestNode) =>
    (
      (await (await fetch(`${node.sim!.url}/api/tags`)).json()) as {
        models: Array<{ name: string; digest: string }>;
      }
    ).models;

  beforeAll(async () => {
    const bobStore = store();
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: ['mistral:7b'], storeDir: bobStore },
      ollamaModelsDir: bobStore,
    });
    const aliceStore = store();
    alice = await startTestNode({
      name: 'alice',
      sim: { profile: 'fast', models: [], storeDir: aliceStore },
      ollamaModelsDir: aliceStore,
      meshKeyFile: join(bob.dataDir, 'mesh.key'),
      bootstrap: bob.node.mesh.mesh.addresses(),
    });
    await waitFor(
      () => alice.node.mesh.peers().some((p) => p.name === 'bob' && p.models.includes('mistral:7b')),
      30_000,
      'alice to see bob with mistral:7b',
    );
  }, 60_000);
  afterAll(async () => {
    await alice?.teardown();
    await bob?.teardown();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('should copy a model from the peer that holds it onto another machine, with the same digest', async () => {
    const { stdout } = await run(
      'models',
      'copy',
      'mistral:7b',
      '--to',
      'alice',
      '--data-dir',
      alice.dataDir,
    );
    expect(stdout.trim().split('\n').at(-1)).toBe('success');
    const copied = (await tags(alice)).find((m) => m.name === 'mistral:7b');
    expect(copied?.digest).toBe((await tags(bob)).find((m) => m.name === 'mistral:7b')?.digest);
    const list = await run('models', 'list', '--data-dir', alice.dataDir);
    expect(list.stdout).toMatch(/^mistral:7b\s+\S+ GB\s+present\s+present$/m);
  });
});
