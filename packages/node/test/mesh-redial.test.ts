/**
 * Issue #14, "a restarted peer is not re-dialled when mDNS is blocked". With mDNS off and no
 * bootstrap, peers must come back from what each node remembers: its peer store on disk.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Home, type HomeNode, startHome, until } from './fixtures/mesh-home.js';

/** The peers a mesh said it remembered at its latest start. */
function remembered(node: HomeNode): string[] {
  const line = node.logs.filter((l) => l.event === 'peers-remembered').at(-1);
  return (line?.peers as string[] | undefined) ?? [];
}

describe('peers remembered across restarts, without mDNS', () => {
  let home: Home;
  let alice: HomeNode;
  let bob: HomeNode;
  let carol: HomeNode;

  beforeAll(async () => {
    home = await startHome(['alice', 'bob', 'carol']);
    alice = home.node('alice');
    bob = home.node('bob');
    carol = home.node('carol');
  }, 60_000);

  afterAll(async () => {
    await home?.teardown();
  });

  it('should list bob online again after he restarts on the same port', async () => {
    await bob.stop();
    await until('alice to see bob gone', () => !alice.sees(bob));
    await bob.restart();
    await until('alice and bob to see each other again', () => alice.sees(bob) && bob.sees(alice), 20_000);
    expect(remembered(bob)).toEqual(expect.arrayContaining([alice.id, carol.id]));
  }, 40_000);

  it('should have alice re-dial bob when he comes back having forgotten everyone', async () => {
    await bob.stop();
    await until('alice to see bob gone', () => !alice.sees(bob));
    rmSync(join(bob.dataDir, 'peers'), { recursive: true, force: true });
    await bob.restart();
    expect(remembered(bob)).toEqual([]);
    await until('alice and bob to see each other again', () => alice.sees(bob) && bob.sees(alice), 20_000);
  }, 40_000);

  it('should re-dial bob and carol from what alice remembered when she restarts', async () => {
    await alice.restart();
    expect(remembered(alice)).toEqual(expect.arrayContaining([bob.id, carol.id]));
    await until('alice to see bob and carol online', () => alice.sees(bob) && alice.sees(carol), 20_000);
    await until('bob and carol to see alice online', () => bob.sees(alice) && carol.sees(alice), 20_000);
  }, 40_000);

  it('should forget a removed peer and not re-dial it after a restart', async () => {
    await alice.mesh.removePeer(carol.id);
    await until('bob to adopt the new key', () => bob.key() === alice.key());
    await until('alice and bob to reconnect', () => alice.sees(bob) && bob.sees(alice), 20_000);
    await alice.restart();
    expect(remembered(alice)).toContain(bob.id);
    expect(remembered(alice)).not.toContain(carol.id);
    await until('alice to see bob online', () => alice.sees(bob), 20_000);
    expect(alice.view(carol)).toBeUndefined();
    const dialledCarol = alice.logs.some((l) => l.event === 'dial-failed' && l.peer === carol.id);
    expect(dialledCarol).toBe(false);
  }, 60_000);
});
