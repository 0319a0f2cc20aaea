/**
 * A copy must never make its holder look gone (#16): bob's heartbeats share the one connection
 * with the bulk bytes, and a peer marked gone fails inference over to another node. Before the fix
 * yamux let each bulk stream queue up to 16 MiB ahead of the heartbeats, and the pre-shared key's
 * cipher then ran out of memory and killed the connection (bob "disconnected") in a 128 MiB copy.
 */
import { join } from 'node:path';
import type { PeerView } from '@allerac/mesh';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFromPeer } from '../src/models/peer-copy.js';
import { TransferTable } from '../src/models/transfers.js';
import {
  logger,
  newHomeKey,
  spawnHolder,
  startHomeNode,
  stopAll,
  tempDir,
} from './helpers/model-copy-home.js';
import { waitFor } from './helpers/test-node.js';

afterEach(stopAll);

const MODEL = 'llama3.2:3b';
const MIB = 1024 * 1024;

describe('liveness during a model copy', () => {
  it('should keep the holder online through a 128 MiB copy', async () => {
    const key = await newHomeKey();
    const holderDir = tempDir('allerac-liveness-holder-');
    const bob = await spawnHolder({
      name: 'bob',
      dataDir: join(holderDir, 'data'),
      meshKeyFile: key,
      storeDir: join(holderDir, 'models'),
      models: [MODEL],
      modelBytes: 128 * MIB,
    });
    const alice = await startHomeNode('alice', key, { bootstrap: bob.addresses });
    const bobView = () => alice.mesh.peers().find((p) => p.id === bob.peerId);
    await waitFor(() => bobView()?.status === 'online', 30_000, 'bob online');

    const left: string[] = [];
    const onLeave = (event: CustomEvent<PeerView>) => {
      if (event.detail.id === bob.peerId) left.push(event.detail.status);
    };
    alice.mesh.addEventListener('peer:leave', onLeave);
    const statuses: string[] = [];
    try {
      for await (const p of copyFromPeer(
        {
          backend: alice.backend,
          open: alice.mesh.openStream.bind(alice.mesh),
          transfers: new TransferTable(),
          logger,
        },
        MODEL,
        { id: bob.peerId, name: 'bob' },
        AbortSignal.timeout(170_000),
      )) {
        statuses.push(String(p.status));
        if (bobView()?.status !== 'online') left.push(`${bobView()?.status} at ${p.status}`);
      }
    } finally {
      alice.mesh.removeEventListener('peer:leave', onLeave);
    }
    expect(statuses.at(-1)).toBe('success');
    expect(left).toEqual([]);
    expect(bobView()?.status).toBe('online');
  }, 200_000);
});
