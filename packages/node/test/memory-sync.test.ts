import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyContains, loadSpaceDoc } from '@allerac/memory-sync';
import { type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import { decodeFrames } from '@allerac/protocol';
import * as Automerge from '@automerge/automerge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MemoryPeer, type SentFrame, startMemoryPeer } from './helpers/memory-peer.js';
import { waitFor } from './helpers/test-node.js';

/** True when `text` appears in a frame: raw, or inside any change of the Automerge sync message it carries. */
function frameContains(frame: SentFrame, text: string): boolean {
  if (Buffer.from(frame.bytes).includes(Buffer.from(text))) return true;
  for (const message of decodeFrames(frame.bytes)) {
    if (message.type !== 'sync-message') continue;
    const decoded = Automerge.decodeSyncMessage(new Uint8Array(Buffer.from(message.data, 'base64')));
    for (const chunk of decoded.changes) {
      // A sync message carries single changes or whole compressed document chunks.
      let ops: string;
      try {
        ops = JSON.stringify(Automerge.decodeChange(chunk).ops);
      } catch {
        if (historyContains(Automerge.loadIncremental(Automerge.init(), chunk), text)) return true;
        continue;
      }
      if (ops.includes(text)) return true;
    }
  }
  return false;
}

async function storeContains(peer: MemoryPeer, text: string): Promise<boolean> {
  const rows = await peer.store.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM memories WHERE text = $1',
    [text],
  );
  if ((rows[0]?.n ?? 0) > 0) return true;
  for (const space of await peer.store.spaces.loadAll()) {
    if (Buffer.from(space.doc).includes(Buffer.from(text))) return true;
    if (historyContains(loadSpaceDoc(space.doc), text)) return true;
  }
  return false;
}

const found = async (peer: MemoryPeer, query: string, text: string) =>
  (await peer.memory.search({ query, k: 5 })).some((hit) => hit.text === text);

describe('shared spaces across three nodes over libp2p on loopback', () => {
  let sim: OllamaSim;
  let root: string;
  const frames: SentFrame[] = [];
  const peers = new Map<string, MemoryPeer>();
  const peer = (name: string) => peers.get(name) as MemoryPeer;
  const start = async (name: string) => {
    const started = await startMemoryPeer({
      name,
      root,
      meshKeyFile: join(root, 'mesh.key'),
      ollamaUrl: sim.url,
      frames,
    });
    peers.set(name, started);
    return started;
  };
  const link = async (a: MemoryPeer, b: MemoryPeer) => {
    await a.mesh.connect(b.mesh.addresses()[0] as string);
    await waitFor(
      () =>
        a.mesh.peers().some((p) => p.id === b.mesh.peerId && p.status === 'online') &&
        b.mesh.peers().some((p) => p.id === a.mesh.peerId && p.status === 'online'),
      20_000,
      `${a.name} and ${b.name} to see each other`,
    );
  };

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: ['all-minilm:latest'] });
    root = mkdtempSync(join(tmpdir(), 'allerac-memsync-'));
    await start('alice');
    await Promise.all(['bob', 'charlie'].map(start));
    await link(peer('bob'), peer('alice'));
    await link(peer('charlie'), peer('alice'));
    for (const p of peers.values()) await p.memory.createSpace('household', { peers: 'all' });
  }, 90_000);

  afterAll(async () => {
    for (const p of peers.values()) await p.stop().catch(() => {});
    await sim?.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('should find a memory shared on alice by searching on bob and charlie, and never send a private one', async () => {
    const privateText = 'my private diary: the safe combination is 31-7-44';
    await peer('alice').memory.add({ text: privateText });
    const shared = await peer('alice').memory.add({
      text: 'the dishwasher filter was changed in March',
      space: 'household',
      tags: ['kitchen'],
    });
    for (const name of ['bob', 'charlie']) {
      await waitFor(
        () => found(peer(name), 'when was the dishwasher filter changed', shared.text),
        20_000,
        `${name} finds it`,
      );
      const hit = (await peer(name).memory.search({ query: 'dishwasher filter', k: 1 }))[0];
      expect(hit).toMatchObject({
        id: shared.id,
        space: 'household',
        // The author is alice's peer id, not its name (memory-author.test.ts).
        authorNode: peer('alice').mesh.peerId,
        tags: ['kitchen'],
      });
      expect(await storeContains(peer(name), privateText)).toBe(false);
      expect(await found(peer(name), 'safe combination', privateText)).toBe(false);
    }
    expect(await found(peer('alice'), 'safe combination', privateText)).toBe(true);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.some((f) => frameContains(f, shared.text))).toBe(true);
    expect(frames.filter((f) => frameContains(f, privateText))).toEqual([]);
  }, 60_000);

  it('should converge concurrent edits made on two nodes', async () => {
    const a = await peer('bob').memory.add({ text: 'bob: recycling goes out on Friday', space: 'household' });
    const c = await peer('charlie').memory.add({
      text: 'charlie: the wifi router is in the hall',
      space: 'household',
    });
    for (const p of peers.values()) {
      await waitFor(
        async () => (await p.memory.list({ space: 'household' }, 100)).memories.length >= 3,
        20_000,
        `${p.name} converges`,
      );
    }
    const ids = async (p: MemoryPeer) =>
      (await p.memory.list({ space: 'household' }, 100)).memories.map((m) => m.id).sort();
    expect(await ids(peer('alice'))).toEqual(await ids(peer('bob')));
    expect(await ids(peer('alice'))).toEqual(await ids(peer('charlie')));
    expect(await ids(peer('alice'))).toEqual(expect.arrayContaining([a.id, c.id]));
  }, 60_000);

  it('should propagate an unshare: every peer drops the memory from its index', async () => {
    const m = await peer('alice').memory.add({ text: 'the garage code is 2580', space: 'household' });
    await waitFor(
      async () => (await peer('charlie').store.memories.get(m.id)) !== undefined,
      20_000,
      'charlie has it',
    );
    await peer('alice').memory.unshare(m.id);
    for (const name of ['bob', 'charlie']) {
      await waitFor(
        async () => (await peer(name).store.memories.get(m.id)) === undefined,
        20_000,
        `${name} drops it`,
      );
    }
    expect((await peer('alice').memory.get(m.id)).space).toBeNull();
  }, 60_000);

  it('should purge history so no peer keeps a trace of the text in its stored document', async () => {
    const secret = 'oops: the alarm code is 9137';
    const m = await peer('alice').memory.add({ text: secret, space: 'household' });
    await waitFor(
      async () => (await peer('bob').store.memories.get(m.id)) !== undefined,
      20_000,
      'bob has it',
    );
    await peer('alice').memory.delete(m.id);
    await peer('alice').memory.purgeHistory('household');
    for (const p of peers.values()) {
      await waitFor(
        async () => (await p.store.spaces.loadAll()).find((s) => s.name === 'household')?.epoch === 1,
        20_000,
        `${p.name} adopts epoch 1`,
      );
      await waitFor(async () => !(await storeContains(p, secret)), 20_000, `${p.name} forgets the secret`);
    }
    // The purged space still syncs.
    const after = await peer('charlie').memory.add({ text: 'after the purge', space: 'household' });
    await waitFor(
      async () => (await peer('bob').store.memories.get(after.id)) !== undefined,
      20_000,
      'bob gets new writes',
    );
  }, 60_000);

  it('should converge with no loss after a partition heals', async () => {
    await peer('bob').stop();
    peers.delete('bob');
    const fromAlice = await peer('alice').memory.add({
      text: 'written on alice while bob was away',
      space: 'household',
    });
    const fromCharlie = await peer('charlie').memory.add({
      text: 'written on charlie while bob was away',
      space: 'household',
    });
    const bob = await start('bob');
    // bob writes before it reconnects.
    const fromBob = await bob.memory.add({ text: 'written on bob while offline', space: 'household' });
    await link(bob, peer('alice'));
    for (const p of peers.values()) {
      for (const m of [fromAlice, fromCharlie, fromBob]) {
        await waitFor(
          async () => (await p.store.memories.get(m.id)) !== undefined,
          30_000,
          `${p.name} gets ${m.text}`,
        );
      }
    }
    const texts = async (p: MemoryPeer) =>
      (await p.memory.list({ space: 'household' }, 500)).memories.map((m) => m.text).sort();
    expect(await texts(peer('bob'))).toEqual(await texts(peer('alice')));
    expect(await texts(peer('charlie'))).toEqual(await texts(peer('alice')));
  }, 90_000);
});
