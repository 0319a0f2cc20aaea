import { describe, expect, it } from 'vitest';
import type { SpaceSync } from '../src/index.js';
import { memory, TestNet } from './helpers/connect.js';

const texts = (p: { sync: SpaceSync }) =>
  p.sync
    .memories('household')
    .map((m) => m.text)
    .sort();

/**
 * A node that wrote under a name before its author id became stable keeps those writes its own:
 * after a purge it re-puts them like the ones under its current id, and nobody else's.
 */
describe('SpaceSync own authors', () => {
  const scenario = async (isOwn?: (author: string) => boolean) => {
    const net = new TestNet();
    const alice = await net.peer('alice');
    const charlie = await net.peer('charlie-peer-id', undefined, { isOwn });
    for (const p of [alice, charlie]) await p.sync.createSpace('household', { peers: 'all' });
    net.connect(alice, charlie);
    await alice.sync.put('household', memory('a1', 'bins go out on Tuesday'));
    await net.settle();
    net.disconnect(alice, charlie);
    await alice.sync.purgeHistory('household');
    // Written while away: one under the old name, one under the stable id, one by "alice" (not ours).
    await charlie.sync.put('household', {
      ...memory('c-old', 'written under the old name'),
      author: 'charlie',
    });
    await charlie.sync.put('household', memory('c-new', 'written under the peer id'));
    await charlie.sync.put('household', { ...memory('x', 'claimed by alice'), author: 'alice' });
    net.connect(alice, charlie);
    await net.settle();
    expect(net.errors).toEqual([]);
    await Promise.all([alice.sync.stop(), charlie.sync.stop()]);
    return { alice: texts(alice), charlie: texts(charlie) };
  };

  it('should keep writes under a former author id through a purge when isOwn counts it', async () => {
    const own = new Set(['charlie-peer-id', 'charlie']);
    const { alice, charlie } = await scenario((author) => own.has(author));
    const expected = ['bins go out on Tuesday', 'written under the old name', 'written under the peer id'];
    expect(charlie).toEqual(expected);
    expect(alice).toEqual(expected);
  });

  it('should keep only writes under nodeId by default', async () => {
    const { charlie } = await scenario();
    expect(charlie).toEqual(['bins go out on Tuesday', 'written under the peer id']);
  });
});
