/**
 * Issue #14, "a space shared by a peer is invisible until the user creates one with the same
 * name". Spaces a peer offers show up as invitations: joined on accept (and only then does their
 * content arrive), hidden on decline until offered anew.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

interface Invitation {
  name: string;
  peers: Array<{ id: string; name: string }>;
  memories: number | null;
}

describe('space invitations between two nodes', () => {
  let alice: TestNode;
  let bob: TestNode;
  let aliceToken: string;
  let bobToken: string;
  let aliceId: string;

  const call = async (node: TestNode, method: string, path: string, body?: unknown) => {
    const token = node === alice ? aliceToken : bobToken;
    const response = await fetch(`${node.node.url}/allerac/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const invitations = async (node: TestNode) =>
    (await call(node, 'GET', '/spaces/invitations')).body.invitations as Invitation[];
  const spaceTexts = async (node: TestNode, space: string) =>
    ((await call(node, 'GET', `/memories?space=${space}`)).body.memories as Array<{ text: string }>)
      .map((m) => m.text)
      .sort();
  const invited = async (node: TestNode, space: string) =>
    (await invitations(node)).find((i) => i.name === space);

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['all-minilm:latest'] } });
    aliceToken = issueAdminToken(alice.dataDir, 'test');
    aliceId = alice.node.mesh.mesh.peerId;
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: ['all-minilm:latest'] },
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    bobToken = issueAdminToken(bob.dataDir, 'test');
    await waitFor(
      () => bob.node.mesh.peers().some((p) => p.id === aliceId && p.status === 'online'),
      30_000,
      'bob to see alice',
    );
  }, 120_000);

  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should list alice’s space as an invitation on bob, with nothing of it on bob yet', async () => {
    expect((await call(alice, 'POST', '/spaces', { name: 'family', peers: 'all' })).status).toBe(201);
    for (const text of ['grandma visits on Sunday', 'the spare key is with the neighbours']) {
      expect((await call(alice, 'POST', '/memories', { text, space: 'family' })).status).toBe(201);
    }
    // Counts travel with a hello; creating another space sends alice's next one.
    expect((await call(alice, 'POST', '/spaces', { name: 'scratch', peers: 'all' })).status).toBe(201);
    await waitFor(async () => (await invited(bob, 'family'))?.memories === 2, 20_000, 'the invitation');
    expect(await invited(bob, 'family')).toEqual({
      name: 'family',
      peers: [{ id: aliceId, name: 'alice' }],
      memories: 2,
    });
    expect((await call(bob, 'GET', '/spaces')).body.spaces).toEqual([]);
    expect(await spaceTexts(bob, 'family')).toEqual([]);
  }, 40_000);

  it('should join on accept, sync alice’s memories, and drop the invitation', async () => {
    const accepted = await call(bob, 'POST', '/spaces/invitations/family/accept');
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ name: 'family', policy: { peers: [aliceId] } });
    await waitFor(
      async () => (await spaceTexts(bob, 'family')).length === 2,
      20_000,
      'alice’s memories on bob',
    );
    expect(await spaceTexts(bob, 'family')).toEqual([
      'grandma visits on Sunday',
      'the spare key is with the neighbours',
    ]);
    expect(await invited(bob, 'family')).toBeUndefined();
    expect((await call(bob, 'POST', '/spaces/invitations/family/accept')).status).toBe(404);
  }, 40_000);

  it('should hide a declined invitation until the space is offered anew', async () => {
    expect((await call(alice, 'POST', '/spaces', { name: 'garden', peers: 'all' })).status).toBe(201);
    await waitFor(async () => (await invited(bob, 'garden')) !== undefined, 20_000, 'the garden invitation');
    const declined = await call(bob, 'POST', '/spaces/invitations/garden/decline');
    expect(declined).toEqual({ status: 200, body: { declined: 'garden' } });
    expect(await invited(bob, 'garden')).toBeUndefined();
    // Another hello from alice offers the same: still hidden.
    expect((await call(alice, 'POST', '/spaces', { name: 'attic', peers: 'all' })).status).toBe(201);
    await waitFor(async () => (await invited(bob, 'attic')) !== undefined, 20_000, 'the attic invitation');
    expect(await invited(bob, 'garden')).toBeUndefined();
    // alice leaves the space and shares it again: a new offer.
    expect((await call(alice, 'POST', '/spaces/garden/leave')).status).toBe(200);
    await waitFor(
      async () => (await call(bob, 'POST', '/spaces/invitations/garden/decline')).status === 404,
      20_000,
      'the offer to be withdrawn',
    );
    expect((await call(alice, 'POST', '/spaces', { name: 'garden', peers: 'all' })).status).toBe(201);
    await waitFor(async () => (await invited(bob, 'garden')) !== undefined, 20_000, 'garden offered anew');
  }, 60_000);

  it('should answer 404 for a space nobody offers and 400 for a bad name', async () => {
    expect((await call(bob, 'POST', '/spaces/invitations/nobody-offers-this/accept')).status).toBe(404);
    expect((await call(bob, 'POST', '/spaces/invitations/nobody-offers-this/decline')).status).toBe(404);
    expect((await call(bob, 'POST', `/spaces/invitations/${'x'.repeat(65)}/accept`)).status).toBe(400);
  });
});
