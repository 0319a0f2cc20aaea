/**
 * A memory's author is the node's peer id, not its name: a rename must not make a node disown
 * what it wrote, and two nodes with the same name must not take each other's memories for their own.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { resolveStartConfig } from '../src/config.js';
import type { MemoryPage, MemoryView, SearchResults } from '../src/contract/memory.js';
import { type AlleracNode, createNode } from '../src/daemon.js';
import { waitFor } from './helpers/test-node.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let sim: OllamaSim;
let root: string;
const running = new Set<AlleracNode>();

beforeAll(async () => {
  sim = await startOllamaSim({ profile: 'fast', models: ['all-minilm:latest'] });
  root = mkdtempSync(join(tmpdir(), 'allerac-author-'));
}, 30_000);

afterAll(async () => {
  for (const node of running) await node.close(0).catch(() => {});
  await sim?.close();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

/** Starts a node in `dir`; without a name, it goes by the one stored in Settings. */
async function start(dir: string, name?: string): Promise<AlleracNode> {
  const dataDir = join(root, dir);
  mkdirSync(dataDir, { recursive: true });
  const config = resolveStartConfig(
    {
      ...(name === undefined ? {} : { name }),
      dataDir,
      httpPort: '0',
      httpHost: '127.0.0.1',
      p2pPort: '0',
      p2pHost: '127.0.0.1',
      mdns: 'off',
      bootstrap: '',
      ollamaUrl: sim.url,
      meshKeyFile: join(root, 'mesh.key'),
      logLevel: 'silent',
    },
    {},
  );
  const node = await createNode(config, { logger });
  running.add(node);
  await node.start();
  return node;
}

async function stop(node: AlleracNode): Promise<void> {
  await node.close(1_000);
  running.delete(node);
}

async function api<T>(node: AlleracNode, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) {
  const response = await node.http.inject({
    method,
    url,
    headers: { authorization: `Bearer ${issueAdminToken(node.config.dataDir, 'test')}` },
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  });
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response.json() as T;
}

const listed = async (node: AlleracNode) =>
  (await api<MemoryPage>(node, 'GET', '/allerac/v1/memories?limit=100')).memories;

describe('memory authors', () => {
  it('should keep its own memories of a space when it leaves after a rename and a restart', async () => {
    let node = await start('renamed', 'alpha');
    const peerId = node.mesh.mesh.peerId;
    await node.memory.createSpace('household', { peers: 'all' });
    const mine = await node.memory.add({ text: 'the boiler is serviced in May', space: 'household' });
    expect(mine.authorNode).toBe(peerId);
    await api(node, 'PATCH', '/allerac/v1/settings', { agentName: 'beta' });
    await stop(node);

    node = await start('renamed');
    expect(node.config.name).toBe('beta');
    await node.memory.leaveSpace('household');
    const kept = await node.memory.get(mine.id);
    expect(kept).toMatchObject({ text: mine.text, space: null, authorNode: peerId });
    await stop(node);
  }, 60_000);

  it('should migrate memories written under its name to its peer id, and still own them after a rename', async () => {
    let node = await start('legacy', 'gamma');
    const peerId = node.mesh.mesh.peerId;
    await node.memory.createSpace('garden', { peers: 'all' });
    // What an older version left: the agent's name as the author, in the space document and the index.
    const now = Date.now();
    const legacy = {
      id: 'legacy-1',
      text: 'tomatoes go in after the last frost',
      tags: [],
      source: 'user' as const,
    };
    await node.memory.spaces.put('garden', { ...legacy, author: 'gamma', createdAt: now, updatedAt: now });
    await node.store.memories.upsert({ ...legacy, authorNode: 'gamma', space: 'garden', embedding: null });
    await node.store.db.query(`DELETE FROM settings WHERE key = 'memory.formerAuthors'`);
    expect((await node.memory.get('legacy-1')).authorNode).toBe('gamma');
    await stop(node);

    // The upgrade's first start: same name, the rows are re-authored.
    node = await start('legacy', 'gamma');
    expect((await node.memory.get('legacy-1')).authorNode).toBe(peerId);
    const [view] = await listed(node);
    expect(view).toMatchObject({ id: 'legacy-1', author: 'gamma', authorId: peerId });
    await stop(node);

    // Renamed later: the document still names "gamma", which is still this node.
    node = await start('legacy', 'delta');
    expect((await listed(node))[0]).toMatchObject({ id: 'legacy-1', author: 'delta', authorId: peerId });
    await node.memory.leaveSpace('garden');
    expect(await node.memory.get('legacy-1')).toMatchObject({ space: null, authorNode: peerId });
    await stop(node);
  }, 90_000);

  it('should keep its own memories when its peer id changes (a restore onto another machine)', async () => {
    let node = await start('moved', 'epsilon');
    const oldId = node.mesh.mesh.peerId;
    await node.memory.createSpace('attic', { peers: 'all' });
    const mine = await node.memory.add({ text: 'the christmas lights are in the attic', space: 'attic' });
    await stop(node);
    // The archive never holds peer-key: the restored node has a new identity.
    rmSync(join(root, 'moved', 'peer-key'));

    node = await start('moved', 'epsilon');
    const newId = node.mesh.mesh.peerId;
    expect(newId).not.toBe(oldId);
    expect(await node.memory.get(mine.id)).toMatchObject({ authorNode: newId });
    await node.memory.leaveSpace('attic');
    expect(await node.memory.get(mine.id)).toMatchObject({ space: null, authorNode: newId });
    await stop(node);
  }, 60_000);

  it('should keep apart what two nodes both called "vm" wrote, and show each author by its current name', async () => {
    const a = await start('vm-a', 'vm');
    const b = await start('vm-b', 'vm');
    const aId = a.mesh.mesh.peerId;
    const bId = b.mesh.mesh.peerId;
    await a.mesh.mesh.connect(b.mesh.mesh.addresses()[0] as string);
    await waitFor(
      () =>
        a.mesh.peers().some((p) => p.id === bId && p.status === 'online') &&
        b.mesh.peers().some((p) => p.id === aId && p.status === 'online'),
      20_000,
      'the two vms to see each other',
    );
    for (const node of [a, b]) await node.memory.createSpace('shared', { peers: 'all' });
    const fromA = await a.memory.add({ text: 'vm a: the printer is on the landing', space: 'shared' });
    const fromB = await b.memory.add({ text: 'vm b: the spare key is with the neighbours', space: 'shared' });
    for (const node of [a, b]) {
      await waitFor(
        async () => (await node.memory.list({ space: 'shared' }, 10)).memories.length === 2,
        20_000,
        'both memories on both nodes',
      );
    }

    // The API shows names, not ids: this node's live name, the peer's name as the mesh shows it.
    await api(a, 'PATCH', '/allerac/v1/settings', { agentName: 'vm-upstairs' });
    const bName = a.mesh.peers().find((p) => p.id === bId)?.name;
    expect(bName).toMatch(/^vm/);
    const views = new Map((await listed(a)).map((m: MemoryView) => [m.id, m]));
    expect(views.get(fromA.id)).toMatchObject({ author: 'vm-upstairs', authorId: aId });
    expect(views.get(fromB.id)).toMatchObject({ author: bName, authorId: bId });
    const { results } = await api<SearchResults>(a, 'POST', '/allerac/v1/memories/search', {
      query: 'spare key',
      k: 1,
    });
    expect(results[0]).toMatchObject({ id: fromB.id, author: bName, authorId: bId });

    // Leaving keeps only what this node wrote, as private.
    await a.memory.leaveSpace('shared');
    expect(await a.memory.get(fromA.id)).toMatchObject({ space: null, authorNode: aId });
    await expect(a.memory.get(fromB.id)).rejects.toMatchObject({ name: 'MemoryNotFoundError' });
    expect(await b.memory.get(fromB.id)).toMatchObject({ space: 'shared', authorNode: bId });
    await stop(a);
    await stop(b);
  }, 90_000);
});
