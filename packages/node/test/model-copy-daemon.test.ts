/**
 * `POST /api/pull` with `allerac.source` on real nodes (#16): each node's Ollama is an ollama-sim
 * with a store on disk, which the node shares as its Ollama models directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';

describe('pulling a model from a peer through the node', () => {
  const dirs: string[] = [];
  let alice: TestNode;
  let bob: TestNode;
  let charlie: TestNode;

  const store = () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-models-'));
    dirs.push(dir);
    return dir;
  };
  const tags = async (t: TestNode) =>
    (
      (await (await fetch(`${t.sim!.url}/api/tags`)).json()) as { models: Array<{ name: string }> }
    ).models.map((m) => m.name);
  const pull = async (t: TestNode, body: unknown) => {
    const response = await fetch(`${t.node.url}/api/pull`, { method: 'POST', body: JSON.stringify(body) });
    const text = await response.text();
    return {
      status: response.status,
      lines: text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    };
  };
  const sees = (t: TestNode, name: string, model?: string) =>
    waitFor(
      () =>
        t.node.mesh
          .peers()
          .some(
            (p) =>
              p.name === name && p.status === 'online' && (model === undefined || p.models.includes(model)),
          ),
      30_000,
      `${t.node.config.name} to see ${name}`,
    );

  beforeAll(async () => {
    const bobStore = store();
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: [MODEL], storeDir: bobStore, modelBytes: 1_000_000 },
      ollamaModelsDir: bobStore,
    });
    const home = { meshKeyFile: join(bob.dataDir, 'mesh.key'), bootstrap: bob.node.mesh.mesh.addresses() };
    const aliceStore = store();
    alice = await startTestNode({
      name: 'alice',
      sim: { profile: 'fast', models: [], storeDir: aliceStore },
      ollamaModelsDir: aliceStore,
      ...home,
    });
    const charlieStore = store();
    charlie = await startTestNode({
      name: 'charlie',
      sim: { profile: 'fast', models: [], storeDir: charlieStore },
      ollamaModelsDir: charlieStore,
      meshKeyFile: home.meshKeyFile,
      bootstrap: [...home.bootstrap, ...alice.node.mesh.mesh.addresses()],
    });
    await Promise.all([sees(alice, 'bob', MODEL), sees(charlie, 'bob', MODEL), sees(alice, 'charlie')]);
  }, 60_000);
  afterAll(async () => {
    await charlie?.teardown();
    await alice?.teardown();
    await bob?.teardown();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('should say in /health whether this node can share its models', async () => {
    const health = (await (await fetch(`${bob.node.url}/health`)).json()) as { models?: unknown };
    expect(health.models).toEqual({ sharing: true });
  });

  it("should copy from bob to charlie a pull aimed at charlie and sent to alice, in Ollama's progress format", async () => {
    const { status, lines } = await pull(alice, { model: MODEL, allerac: { node: 'charlie' } });
    expect(status).toBe(200);
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(
      lines.some(
        (l) => typeof l.digest === 'string' && l.total === l.completed && (l.total as number) >= 1_000_000,
      ),
    ).toBe(true);
    expect(lines.map((l) => l.status)).toContain('verifying sha256 digest');
    expect(lines.at(-1)).toEqual({ status: 'success' });
    expect(await tags(charlie)).toEqual([MODEL]);
    expect(await tags(alice)).toEqual([]);
    const transfers = (await (await fetch(`${charlie.node.url}/allerac/v1/models/transfers`)).json()) as {
      transfers: Array<Record<string, unknown>>;
    };
    expect(transfers.transfers).toMatchObject([
      { model: MODEL, node: 'bob', source: 'peer', status: 'done' },
    ]);
    expect(transfers.transfers[0]!.completed).toBe(transfers.transfers[0]!.total);
  });

  it('should refuse a pull from peers of a model no peer holds, with a clear 404', async () => {
    const { status, lines } = await pull(alice, { model: 'qwen2.5:0.5b', allerac: { source: 'peer' } });
    expect(status).toBe(404);
    expect(lines[0]!.error).toMatch(/no online node of this home holds "qwen2.5:0.5b"/);
    expect(await tags(alice)).toEqual([]);
  });

  it('should reject an unknown source with a 400', async () => {
    const { status } = await pull(alice, { model: MODEL, allerac: { source: 'usb' } });
    expect(status).toBe(400);
  });

  it('should download from the internet when told to, even when a peer holds the model', async () => {
    const { status, lines } = await pull(alice, { model: MODEL, allerac: { source: 'internet' } });
    expect(status).toBe(200);
    expect(lines.at(-1)).toEqual({ status: 'success' });
    const transfers = (await (await fetch(`${alice.node.url}/allerac/v1/models/transfers`)).json()) as {
      transfers: unknown[];
    };
    expect(transfers.transfers).toEqual([]);
  });
});
