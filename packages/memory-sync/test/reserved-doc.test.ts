import * as Automerge from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import {
  InMemorySpaceStorage,
  InvalidSpaceInputError,
  MAX_ENTRY_BYTES,
  MAX_RESERVED_ENTRIES,
  MalformedSyncMessageError,
  SpaceSync,
  UnknownSpaceError,
} from '../src/index.js';
import { TestNet } from './helpers/connect.js';

const DOC = '.agents';

/** Syncs a raw Automerge document into `sync` as peer `peer` would, to completion. */
async function syncRaw(sync: SpaceSync, peer: string, doc: Automerge.Doc<Record<string, unknown>>) {
  const inbox: Array<{ type: string; space?: string; data?: string }> = [];
  sync.addPeer(peer, (message) => inbox.push(message as (typeof inbox)[number]));
  let state = Automerge.initSyncState();
  for (let round = 0; round < 20; round++) {
    const [next, bytes] = Automerge.generateSyncMessage(doc, state);
    state = next;
    if (bytes !== null) {
      await sync.receive(peer, {
        type: 'sync-message',
        space: DOC,
        data: Buffer.from(bytes).toString('base64'),
      });
    }
    const replies = inbox.splice(0).filter((m) => m.type === 'sync-message' && m.space === DOC);
    for (const reply of replies) {
      [doc, state] = Automerge.receiveSyncMessage(
        doc,
        state,
        new Uint8Array(Buffer.from(reply.data as string, 'base64')),
      );
    }
    if (bytes === null && replies.length === 0) return;
  }
}

describe('reserved documents', () => {
  it('should sync entries between peers that both opened the document', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    const bob = await net.peer('bob');
    await alice.sync.openReserved(DOC);
    await bob.sync.openReserved(DOC);
    const seen: Array<{ doc: string; origin: string }> = [];
    bob.sync.onEntriesChanged((event) => seen.push(event));
    net.connect(alice, bob);
    await alice.sync.putEntry(DOC, 'writer', '{"name":"Writer"}');
    await net.settle();
    expect(bob.sync.entries(DOC).get('writer')).toBe('{"name":"Writer"}');
    expect(seen).toContainEqual({ doc: DOC, origin: 'alice' });

    await bob.sync.removeEntry(DOC, 'writer');
    await net.settle();
    expect(alice.sync.entries(DOC).has('writer')).toBe(false);
    expect(net.errors).toEqual([]);
  });

  it('should never show a reserved document as a space, an offer or a target of memories', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    const bob = await net.peer('bob');
    await alice.sync.openReserved(DOC);
    await alice.sync.createSpace('household', { peers: 'all' });
    net.connect(alice, bob);
    await net.settle();
    expect(alice.sync.spaces().map((s) => s.name)).toEqual(['household']);
    expect(alice.sync.has(DOC)).toBe(false);
    expect(bob.sync.offers().map((o) => o.name)).toEqual(['household']);
    await expect(
      alice.sync.put(DOC, { id: 'x', text: 't', tags: [], source: 'user', createdAt: 0, updatedAt: 0 }),
    ).rejects.toBeInstanceOf(UnknownSpaceError);
    await expect(alice.sync.leaveSpace(DOC)).rejects.toBeInstanceOf(UnknownSpaceError);
    await expect(alice.sync.createSpace(DOC, { peers: 'all' })).rejects.toBeInstanceOf(
      InvalidSpaceInputError,
    );
  });

  it('should keep its entries across a restart', async () => {
    const storage = new InMemorySpaceStorage();
    const first = new SpaceSync({ nodeId: 'a' }, { storage });
    await first.openReserved(DOC);
    await first.putEntry(DOC, 'k', 'v');
    await first.stop();
    const second = new SpaceSync({ nodeId: 'a' }, { storage });
    await second.openReserved(DOC);
    expect([...second.entries(DOC)]).toEqual([['k', 'v']]);
  });

  it('should refuse oversized entries and skip what a peer wrote with the wrong shape', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    await alice.sync.openReserved(DOC);
    await expect(alice.sync.putEntry(DOC, 'big', 'x'.repeat(MAX_ENTRY_BYTES + 1))).rejects.toBeInstanceOf(
      InvalidSpaceInputError,
    );
    await expect(alice.sync.putEntry(DOC, '../bad', 'v')).rejects.toBeInstanceOf(InvalidSpaceInputError);

    // A peer's document with a number and a nested map where strings belong, and a good entry.
    const evil = Automerge.change(Automerge.init<Record<string, unknown>>(), (d) => {
      d['e/number'] = 42;
      d['e/map'] = { nested: true };
      d['e/good'] = 'fine';
    });
    await syncRaw(alice.sync, 'mallory', evil);
    expect([...alice.sync.entries(DOC)]).toEqual([['good', 'fine']]);
  });

  it('should hold at most MAX_RESERVED_ENTRIES: a new one beyond is refused, and a flood read only in part', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    await alice.sync.openReserved(DOC);
    // A paired peer floods the document with entries: alice reads the first ones by key only.
    const flood = Automerge.change(Automerge.init<Record<string, unknown>>(), (d) => {
      for (let i = 0; i < MAX_RESERVED_ENTRIES + 50; i++) d[`e/k${String(i).padStart(5, '0')}`] = 'v';
    });
    await syncRaw(alice.sync, 'mallory', flood);
    const read = [...alice.sync.entries(DOC).keys()];
    expect(read).toHaveLength(MAX_RESERVED_ENTRIES);
    expect(read[0]).toBe('k00000');
    expect(read.at(-1)).toBe(`k${String(MAX_RESERVED_ENTRIES - 1).padStart(5, '0')}`);
    // Full: a new key is refused with a reason, an existing one can still change, and removing frees a place.
    await expect(alice.sync.putEntry(DOC, 'one-more', 'v')).rejects.toThrow(/at most \d+ entries/);
    await alice.sync.putEntry(DOC, 'k00000', 'changed');
    expect(alice.sync.entries(DOC).get('k00000')).toBe('changed');
  });

  it('should refuse an epoch for a reserved document, which is never purged', async () => {
    const alice = await new TestNet().peer('alice');
    await alice.sync.openReserved(DOC);
    await alice.sync.putEntry(DOC, 'k', 'v');
    const [, message] = Automerge.generateSyncMessage(Automerge.init(), Automerge.initSyncState());
    await expect(
      alice.sync.receive('mallory', {
        type: 'sync-message',
        space: DOC,
        epoch: 5,
        data: Buffer.from(message as Uint8Array).toString('base64'),
      }),
    ).rejects.toBeInstanceOf(MalformedSyncMessageError);
    expect(alice.sync.entries(DOC).get('k')).toBe('v');
  });
});
