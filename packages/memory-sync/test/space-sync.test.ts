import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  historyContains,
  InMemorySpaceStorage,
  listMemories,
  loadSpaceDoc,
  MalformedSyncMessageError,
  SpaceExistsError,
  SpaceSync,
  SyncNotAllowedError,
  UnknownSpaceError,
} from '../src/index.js';
import { memory, TestNet } from './helpers/connect.js';

const texts = (p: { sync: SpaceSync }, space = 'household') =>
  p.sync
    .memories(space)
    .map((m) => m.text)
    .sort();

describe('SpaceSync', () => {
  it('should start and stop twice safely', async () => {
    const storage = new InMemorySpaceStorage();
    const before = new SpaceSync({ nodeId: 'a' }, { storage });
    await before.start();
    await before.createSpace('household', { peers: 'all' });
    await before.put('household', memory('m1', 'kept across a restart'));
    await before.stop();

    let loads = 0;
    // Saves wait at this gate once it is closed, so a write is surely in flight during stop().
    let gate: Promise<void> | undefined;
    let openGate = () => {};
    const counted = {
      loadAll: () => {
        loads += 1;
        return storage.loadAll();
      },
      save: async (space: Parameters<typeof storage.save>[0]) => {
        await gate;
        await storage.save(space);
      },
      remove: storage.remove.bind(storage),
    };
    const sync = new SpaceSync({ nodeId: 'a' }, { storage: counted });
    await Promise.all([sync.start(), sync.start()]);
    await sync.start();
    // Loaded once: a second start neither reloads nor duplicates the space.
    expect(loads).toBe(1);
    expect(sync.spaces()).toEqual([{ name: 'household', epoch: 0, policy: { peers: 'all' }, memories: 1 }]);

    const sent: unknown[] = [];
    sync.addPeer('bob', (message) => sent.push(message));
    expect(sent).not.toEqual([]);
    gate = new Promise((resolve) => {
      openGate = resolve;
    });
    const write = sync.put('household', memory('m2', 'written while stopping'));
    const storedWhenStopped = Promise.all([sync.stop(), sync.stop()]).then(() =>
      listMemories(loadSpaceDoc(storage.spaces.get('household')!.doc)).map((m) => m.id),
    );
    // One turn of the event loop: a stop() that did not wait for the write would resolve here.
    await new Promise((resolve) => setImmediate(resolve));
    openGate();
    // Stop waited for the write in flight...
    expect((await storedWhenStopped).sort()).toEqual(['m1', 'm2']);
    await sync.stop();
    await write;
    // ...and disconnected the peer: later changes are not sent to it.
    sent.length = 0;
    await sync.put('household', memory('m3', 'after stop'));
    expect(sent).toEqual([]);
  });

  it('should share a memory with every peer in the space', async () => {
    const net = new TestNet();
    const [alice, bob, charlie] = await Promise.all(['alice', 'bob', 'charlie'].map((id) => net.peer(id)));
    for (const p of [alice!, bob!, charlie!]) await p.sync.createSpace('household', { peers: 'all' });
    net.connect(alice!, bob!);
    net.connect(alice!, charlie!);
    await alice!.sync.put('household', memory('m1', 'the dishwasher filter was changed in March'));
    await net.settle();
    expect(texts(bob!)).toEqual(['the dishwasher filter was changed in March']);
    expect(texts(charlie!)).toEqual(['the dishwasher filter was changed in March']);
    expect(bob!.sync.memory('household', 'm1')?.author).toBe('alice');
    expect(net.errors).toEqual([]);
  });

  it('should converge after concurrent edits on two nodes', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    const bob = await net.peer('bob');
    await alice.sync.createSpace('household', { peers: 'all' });
    await bob.sync.createSpace('household', { peers: 'all' });
    net.connect(alice, bob);
    await alice.sync.put('household', memory('shared', 'first version'));
    await net.settle();
    net.disconnect(alice, bob);
    await alice.sync.put('household', memory('a1', 'alice wrote this offline'));
    await bob.sync.put('household', memory('b1', 'bob wrote this offline'));
    await alice.sync.put('household', { ...memory('shared', 'alice edit'), tags: ['x'] });
    await bob.sync.remove('household', 'b1');
    await bob.sync.put('household', memory('b2', 'bob again'));
    net.connect(alice, bob);
    await net.settle();
    expect(texts(alice)).toEqual(texts(bob));
    expect(texts(alice)).toEqual(['alice edit', 'alice wrote this offline', 'bob again']);
  });

  it('should never offer a space to a peer the policy does not name, and refuse it if it asks', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    const bob = await net.peer('bob');
    const eve = await net.peer('eve');
    await alice.sync.createSpace('secret', { peers: ['bob'] });
    await bob.sync.createSpace('secret', { peers: 'all' });
    await eve.sync.createSpace('secret', { peers: 'all' });
    await alice.sync.put('secret', memory('s1', 'the spare key is under the pot'));
    net.connect(alice, bob);
    net.connect(alice, eve);
    await net.settle();
    expect(texts(bob, 'secret')).toEqual(['the spare key is under the pot']);
    expect(texts(eve, 'secret')).toEqual([]);
    const toEve = net.frames.filter((f) => f.from === 'alice' && f.to === 'eve');
    expect(toEve.some((f) => f.json.includes('"sync-message"'))).toBe(false);
    expect(toEve.some((f) => f.json.includes('not-allowed'))).toBe(true);
    expect(net.errors.some((e) => e instanceof SyncNotAllowedError)).toBe(true);
    // Eve's own writes never reach alice's document either.
    await eve.sync.put('secret', memory('e1', 'injected'));
    await net.settle();
    expect(texts(alice, 'secret')).toEqual(['the spare key is under the pot']);
  });

  it('should refuse a space this node does not hold and creating one twice', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    const bob = await net.peer('bob');
    await alice.sync.createSpace('recipes', { peers: 'all' });
    await expect(alice.sync.createSpace('recipes', { peers: 'all' })).rejects.toThrow(SpaceExistsError);
    await alice.sync.put('recipes', memory('r1', 'pancakes: 2 eggs'));
    net.connect(alice, bob);
    await net.settle();
    expect(net.errors.some((e) => e instanceof UnknownSpaceError)).toBe(true);
    await expect(bob.sync.put('recipes', memory('x', 'y'))).rejects.toThrow(UnknownSpaceError);
    // Joining later picks the space up.
    await bob.sync.createSpace('recipes', { peers: 'all' });
    await net.settle();
    expect(texts(bob, 'recipes')).toEqual(['pancakes: 2 eggs']);
  });

  it('should propagate an unshare to every peer', async () => {
    const net = new TestNet();
    const peers = await Promise.all(['alice', 'bob', 'charlie'].map((id) => net.peer(id)));
    for (const p of peers) await p.sync.createSpace('household', { peers: 'all' });
    net.connect(peers[0]!, peers[1]!);
    net.connect(peers[1]!, peers[2]!);
    const removed: string[] = [];
    peers[2]!.sync.onChange((e) => removed.push(...e.removed));
    await peers[0]!.sync.put('household', memory('m1', 'oops'));
    await net.settle();
    expect(texts(peers[2]!)).toEqual(['oops']);
    await peers[0]!.sync.remove('household', 'm1');
    await net.settle();
    for (const p of peers) expect(texts(p)).toEqual([]);
    expect(removed).toEqual(['m1']);
  });

  it('should purge history on every peer, including one that was offline, with no trace in stored documents', async () => {
    const net = new TestNet();
    const peers = await Promise.all(['alice', 'bob', 'charlie'].map((id) => net.peer(id)));
    const [alice, bob, charlie] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]];
    for (const p of peers) await p.sync.createSpace('household', { peers: 'all' });
    net.connect(alice, bob);
    net.connect(alice, charlie);
    await alice.sync.put('household', memory('keep', 'bins go out on Tuesday'));
    await alice.sync.put('household', memory('oops', 'the alarm code is 9137'));
    await net.settle();
    net.disconnect(alice, charlie);
    await alice.sync.remove('household', 'oops');
    await alice.sync.purgeHistory('household');
    await net.settle();
    // Charlie wrote while away; it comes back after the purge and must keep its write.
    await charlie.sync.put('household', memory('c1', 'charlie was offline'));
    net.connect(alice, charlie);
    await net.settle();
    await Promise.all(peers.map((p) => p.sync.stop()));
    for (const p of peers) {
      expect(texts(p)).toEqual(['bins go out on Tuesday', 'charlie was offline']);
      const stored = p.storage.spaces.get('household')!;
      expect(stored.epoch).toBe(1);
      expect(historyContains(loadSpaceDoc(stored.doc), 'the alarm code is 9137')).toBe(false);
    }
  });

  it('should leave a space and stop syncing it', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    const bob = await net.peer('bob');
    await alice.sync.createSpace('household', { peers: 'all' });
    await bob.sync.createSpace('household', { peers: 'all' });
    net.connect(alice, bob);
    await alice.sync.put('household', memory('m1', 'one'));
    await net.settle();
    expect(await bob.sync.leaveSpace('household')).toEqual(['m1']);
    expect(bob.sync.has('household')).toBe(false);
    expect(bob.storage.spaces.has('household')).toBe(false);
    await alice.sync.put('household', memory('m2', 'two'));
    await net.settle();
    expect(bob.sync.has('household')).toBe(false);
  });

  it('should persist documents and reload them', async () => {
    const storage = new InMemorySpaceStorage();
    const net = new TestNet();
    const alice = await net.peer('alice', storage);
    await alice.sync.createSpace('household', { peers: ['bob'] });
    await alice.sync.put('household', memory('m1', 'kept across restarts'));
    await alice.sync.stop();
    const again = await net.peer('alice', storage);
    expect(texts(again)).toEqual(['kept across restarts']);
    expect(again.sync.spaces()).toEqual([
      { name: 'household', epoch: 0, policy: { peers: ['bob'] }, memories: 1 },
    ]);
  });

  it('should reject malformed sync messages with a typed error and leave the document intact', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    await alice.sync.createSpace('household', { peers: 'all' });
    await alice.sync.put('household', memory('m1', 'intact'));
    const before = alice.sync.savedDoc('household');
    const message = fc.oneof(
      fc.anything(),
      fc.record({
        type: fc.constant('sync-message'),
        space: fc.constantFrom('household', 'nope'),
        data: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('base64')),
        epoch: fc.oneof(fc.constant(undefined), fc.integer({ min: -2, max: 2 })),
      }),
      fc.record({ type: fc.constant('sync-hello'), spaces: fc.anything() }),
    );
    await fc.assert(
      fc.asyncProperty(message, async (value) => {
        try {
          await alice.sync.receive('mallory', value);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect(['MalformedSyncMessageError', 'UnknownSpaceError', 'SyncNotAllowedError']).toContain(
            (error as Error).name,
          );
        }
        expect(alice.sync.memories('household').map((m) => m.text)).toEqual(['intact']);
      }),
      { numRuns: 300 },
    );
    expect(alice.sync.memories('household')).toHaveLength(1);
    expect(loadSpaceDoc(before)).toBeDefined();
    await expect(
      alice.sync.receive('mallory', { type: 'sync-message', space: 'household', data: 'AAAA' }),
    ).rejects.toThrow(MalformedSyncMessageError);
  });
});
