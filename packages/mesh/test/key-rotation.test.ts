import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CannotRemoveSelfError, parseSwarmKey } from '../src/index.js';
import { cleanupAll, nextPeerEvent, startMesh, type TestMesh } from './fixtures.js';

afterEach(cleanupAll);

/** Meshes of one home, each connected to the first and holding its card. */
async function home(...names: string[]): Promise<TestMesh[]> {
  const [first, ...rest] = names;
  const a = await startMesh(first as string);
  const others: TestMesh[] = [];
  for (const name of rest) {
    const m = await startMesh(name, { meshKey: a.meshKey });
    others.push(m);
  }
  for (const m of others) {
    const seen = nextPeerEvent(a.mesh, 'peer:join', (p) => p.id === m.mesh.peerId);
    await m.mesh.connect(a.mesh.addresses()[0] as string);
    await seen;
  }
  return [a, ...others];
}

describe('key rotation in process', () => {
  it('should remove a peer: the others adopt a new key and stay connected, the removed one is cut off', async () => {
    const [a, b, c] = (await home('kitchen', 'study', 'garage')) as [TestMesh, TestMesh, TestMesh];
    // b also knows c, so that the rotation reaches a majority of a's remaining peers through b.
    const bSeesC = nextPeerEvent(b.mesh, 'peer:join', (p) => p.id === c.mesh.peerId);
    await c.mesh.connect(b.mesh.addresses()[0] as string);
    await bSeesC;
    const before = parseSwarmKey(await readFile(a.meshKeyFile, 'utf8'));
    // a restarts its transport on the new key, so b goes and comes back once b holds it too.
    const bBack = nextPeerEvent(a.mesh, 'peer:join', (p) => p.id === b.mesh.peerId);
    await a.mesh.removePeer(c.mesh.peerId);
    await bBack;
    const after = parseSwarmKey(await readFile(a.meshKeyFile, 'utf8'));
    expect(Buffer.compare(after, before)).not.toBe(0);
    expect(Buffer.compare(parseSwarmKey(await readFile(b.meshKeyFile, 'utf8')), after)).toBe(0);
    expect(a.mesh.keyStatus()).toMatchObject({ state: 'current', epoch: 1 });
    expect(a.mesh.keyStatus().lastRotation?.removed).toBe(c.mesh.peerId);
    expect(b.mesh.keyStatus()).toMatchObject({ state: 'current', epoch: 1 });
    expect(a.mesh.peers().map((p) => p.id)).not.toContain(c.mesh.peerId);
    await expect(c.mesh.connect(a.mesh.addresses()[0] as string)).rejects.toThrow();
  });

  it('should refuse to remove itself', async () => {
    const [a] = (await home('kitchen')) as [TestMesh];
    await expect(a.mesh.removePeer(a.mesh.peerId)).rejects.toBeInstanceOf(CannotRemoveSelfError);
  });
});
