import * as Automerge from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import { type OffersChangedEvent, UnknownSpaceError } from '../src/index.js';
import { memory, TestNet } from './helpers/connect.js';

describe('SpaceSync offers', () => {
  it('should offer the spaces a peer may sync, with counts, and carry no content before a join', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    const bob = await net.peer('bob');
    await alice.sync.createSpace('family', { peers: 'all' });
    await alice.sync.put('family', memory('m1', 'grandma visits on Sunday'));
    await alice.sync.createSpace('secret', { peers: ['carol'] });
    net.connect(alice, bob);
    await net.settle();
    expect(bob.sync.offers()).toEqual([{ name: 'family', peers: ['alice'], memories: 1 }]);
    expect(bob.sync.has('family')).toBe(false);
    // Whatever alice sent about "family" held no change; bob refused it as a space he does not hold.
    for (const frame of net.frames.filter((f) => f.from === 'alice')) {
      const message = JSON.parse(frame.json) as { type: string; data?: string };
      if (message.type !== 'sync-message') continue;
      const decoded = Automerge.decodeSyncMessage(new Uint8Array(Buffer.from(message.data ?? '', 'base64')));
      expect(decoded.changes).toEqual([]);
    }
    expect(net.errors.every((e) => e instanceof UnknownSpaceError)).toBe(true);

    await bob.sync.createSpace('family', { peers: ['alice'] });
    await net.settle();
    expect(bob.sync.offers()).toEqual([]);
    expect(bob.sync.memories('family').map((m) => m.text)).toEqual(['grandma visits on Sunday']);
  });

  it('should offer a space anew when its policy names the peer, and report a withdrawn offer', async () => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    const bob = await net.peer('bob');
    await alice.sync.createSpace('garden', { peers: 'all' });
    await alice.sync.createSpace('attic', { peers: ['carol'] });
    const events: OffersChangedEvent[] = [];
    bob.sync.onOffersChanged((event) => events.push(event));
    net.connect(alice, bob);
    await net.settle();
    expect(bob.sync.offers().map((o) => o.name)).toEqual(['garden']);

    await alice.sync.setPolicy('attic', { peers: ['carol', 'bob'] });
    await net.settle();
    expect(bob.sync.offers().map((o) => o.name)).toEqual(['attic', 'garden']);

    await alice.sync.leaveSpace('garden');
    await net.settle();
    expect(bob.sync.offers().map((o) => o.name)).toEqual(['attic']);
    expect(events.at(-1)).toEqual({ peer: 'alice', offered: ['attic'], withdrawn: ['garden'] });

    // A disconnect is not a withdrawal: the offers go with the peer and come back with it.
    net.disconnect(alice, bob);
    expect(bob.sync.offers()).toEqual([]);
    net.connect(alice, bob);
    await net.settle();
    expect(events.at(-1)).toEqual({ peer: 'alice', offered: ['attic'], withdrawn: [] });
  });

  it('should ignore counts that do not line up with the spaces', async () => {
    const net = new TestNet();
    const bob = await net.peer('bob');
    bob.sync.addPeer('alice', () => {});
    await bob.sync.receive('alice', { type: 'sync-hello', spaces: ['a', 'b'], memories: [1] });
    expect(bob.sync.offers()).toEqual([
      { name: 'a', peers: ['alice'], memories: undefined },
      { name: 'b', peers: ['alice'], memories: undefined },
    ]);
    await bob.sync.receive('alice', { type: 'sync-hello', spaces: ['a'], memories: [-1] });
    expect(bob.sync.offers()).toEqual([{ name: 'a', peers: ['alice'], memories: undefined }]);
  });
});
