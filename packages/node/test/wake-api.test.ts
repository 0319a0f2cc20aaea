/**
 * Issue #17, "machines that sleep", through the HTTP API of two real nodes on loopback: bob's
 * wake flags reach alice in his card, alice remembers bob's card on disk, lists him as sleeping
 * once he stops, and refuses to wake a machine that said no or that she never paired with. No
 * packet is sent here (a broadcast would leave loopback): the sender is tested on loopback in
 * wake-magic-packet.test.ts, and on a simulated LAN in simulations/lan (wake scenario).
 */
import { stat } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { PeerView } from '@allerac/mesh';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { SleepingPeerList } from '../src/contract/wake.js';
import type { MeshRuntime } from '../src/mesh-runtime.js';
import { lanInterfaces, lanMacs } from '../src/wake/lan-interfaces.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const EVENT_TIMEOUT_MS = 10_000;

/** The next peer view from `runtime` that `match` accepts (join or update), bounded. */
function nextPeerView(runtime: MeshRuntime, match: (view: PeerView) => boolean): Promise<PeerView> {
  return new Promise((resolve, reject) => {
    const onView = (evt: CustomEvent<PeerView>) => {
      if (!match(evt.detail)) return;
      done();
      resolve(evt.detail);
    };
    const deadline = setTimeout(() => {
      done();
      reject(new Error(`no matching peer view within ${EVENT_TIMEOUT_MS} ms`));
    }, EVENT_TIMEOUT_MS);
    const done = () => {
      clearTimeout(deadline);
      runtime.removeEventListener('peer:update', onView);
      runtime.removeEventListener('peer:join', onView);
    };
    runtime.addEventListener('peer:update', onView);
    runtime.addEventListener('peer:join', onView);
  });
}

describe('sleeping machines over the API', () => {
  let alice: TestNode;
  let bob: TestNode | undefined;
  let bobId: string;
  let admin: Record<string, string>;
  let member: Record<string, string>;
  let bobAdmin: Record<string, string>;

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
    bob = await startTestNode({
      name: 'gaming-pc',
      sim: { profile: 'fast', models: ['qwen3:8b'] },
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    bobId = bob.node.mesh.mesh.peerId;
    admin = { authorization: `Bearer ${await issueAdminToken(alice.dataDir, 'test')}` };
    bobAdmin = { authorization: `Bearer ${await issueAdminToken(bob.dataDir, 'test')}` };
    const issued = await alice.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/tokens',
      headers: admin,
      payload: { name: 'kid', role: 'member' },
    });
    member = { authorization: `Bearer ${issued.json().token as string}` };
    await waitFor(
      () => alice.node.mesh.peers().some((p) => p.id === bobId && p.status === 'online'),
      30_000,
      'alice to see bob',
    );
  }, 60_000);
  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it("should carry bob's LAN MACs and his wake flags in his card, as Settings change them", async () => {
    const macs = lanMacs(lanInterfaces(networkInterfaces()), 16);
    const on = nextPeerView(alice.node.mesh, (v) => v.id === bobId && v.card.wakeOnLan === true);
    const patched = await bob!.node.http.inject({
      method: 'PATCH',
      url: '/allerac/v1/settings',
      headers: bobAdmin,
      payload: { wakeOnLan: true, preferredWhenOn: true },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().settings).toMatchObject({ 'wake.wakeOnLan': true, 'wake.preferredWhenOn': true });
    const view = await on;
    expect(view.card.preferredWhenOn).toBe(true);
    expect(view.card.macs).toEqual(macs.length > 0 ? macs : undefined);

    const off = nextPeerView(alice.node.mesh, (v) => v.id === bobId && v.card.wakeOnLan === false);
    await bob!.node.http.inject({
      method: 'PATCH',
      url: '/allerac/v1/settings',
      headers: bobAdmin,
      payload: { wakeOnLan: false },
    });
    await off;
  });

  it('should store the sender settings and refuse a patience out of bounds', async () => {
    const patched = await alice.node.http.inject({
      method: 'PATCH',
      url: '/allerac/v1/settings',
      headers: admin,
      payload: { wakeEnabled: false, patienceMs: 5_000 },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().settings).toMatchObject({ 'wake.enabled': false, 'routing.patienceMs': 5_000 });
    for (const patienceMs of [-1, 1.5, 10_000_000, '5000']) {
      const bad = await alice.node.http.inject({
        method: 'PATCH',
        url: '/allerac/v1/settings',
        headers: admin,
        payload: { patienceMs },
      });
      expect(bad.statusCode, String(patienceMs)).toBe(400);
    }
  });

  it('should list bob as sleeping once he stops, to a member too, and remember him on disk', async () => {
    expect(
      (await alice.node.http.inject({ url: '/allerac/v1/peers/sleeping', headers: member })).json(),
    ).toEqual([]);
    await bob!.teardown();
    bob = undefined;
    await waitFor(
      () => alice.node.mesh.peers().every((p) => p.id !== bobId || p.status !== 'online'),
      30_000,
      'alice to see bob gone',
    );
    const listed = await alice.node.http.inject({ url: '/allerac/v1/peers/sleeping', headers: member });
    expect(listed.statusCode).toBe(200);
    expect([...Value.Errors(SleepingPeerList, listed.json())]).toEqual([]);
    expect(listed.json()).toEqual([
      expect.objectContaining({
        id: bobId,
        name: 'gaming-pc',
        models: ['qwen3:8b'],
        wakeable: false,
        preferredWhenOn: true,
      }),
    ]);
    expect((await stat(join(alice.dataDir, 'known-peers.json'))).mode & 0o777).toBe(0o600);
    const refused = await alice.node.http.inject({
      url: '/allerac/v1/peers/sleeping',
      remoteAddress: '198.18.0.9',
    });
    expect(refused.statusCode).toBe(401);
  });

  it('should refuse to wake a machine that turned Wake-on-LAN off, or one never paired', async () => {
    const off = await alice.node.http.inject({
      method: 'POST',
      url: `/allerac/v1/peers/${bobId}/wake`,
      headers: member,
      payload: {},
    });
    expect(off.statusCode).toBe(409);
    expect(off.body).toMatch(/Wake-on-LAN is off/);
    const unknown = await alice.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/peers/stranger/wake',
      headers: member,
      payload: {},
    });
    expect(unknown.statusCode).toBe(404);
  });
});
