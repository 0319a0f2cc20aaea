import {
  CARD_PROTOCOL,
  FramedStream,
  type NodeCard,
  PROTOCOL_VERSION,
  signedCardMessage,
} from '@allerac/protocol';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { generateMeshKey, writeMeshKey } from '../src/index.js';
import { cleanupAll, nextPeerEvent, rawPeer, startMesh, TEST_HARDWARE, type TestMesh } from './fixtures.js';

afterEach(cleanupAll);

/** Two meshes of one home, connected by a direct dial (no discovery), each holding the other's card. */
async function pair(): Promise<[TestMesh, TestMesh]> {
  const a = await startMesh('kitchen');
  const b = await startMesh('study', { meshKey: a.meshKey });
  const aSeesB = nextPeerEvent(a.mesh, 'peer:join', (p) => p.id === b.mesh.peerId);
  const bSeesA = nextPeerEvent(b.mesh, 'peer:join', (p) => p.id === a.mesh.peerId);
  await b.mesh.connect(a.mesh.addresses()[0] as string);
  await Promise.all([aSeesB, bSeesA]);
  return [a, b];
}

describe('mesh in process', () => {
  it('should exchange cards after a direct dial', async () => {
    const [a, b] = await pair();
    const seen = a.mesh.peers().find((p) => p.id === b.mesh.peerId);
    expect(seen).toMatchObject({ name: 'study', status: 'online' });
    expect(seen?.card.hardware.cores).toBe(TEST_HARDWARE.cores);
    expect(b.mesh.peers().find((p) => p.id === a.mesh.peerId)?.name).toBe('kitchen');
  });

  it('should publish a rename to its peers as a card update', async () => {
    const [a, b] = await pair();
    const renamed = nextPeerEvent(a.mesh, 'peer:update', (p) => p.name === 'library');
    b.mesh.setIdentity({ name: 'library', specializations: ['research'] });
    expect((await renamed).card.specializations).toEqual(['research']);
  });

  it('should mark a peer gone when it leaves, and online again when it comes back', async () => {
    const [a, b] = await pair();
    const gone = nextPeerEvent(a.mesh, 'peer:leave', (p) => p.id === b.mesh.peerId);
    await b.mesh.stop();
    expect((await gone).status).toBe('gone');
    const back = nextPeerEvent(a.mesh, 'peer:join', (p) => p.id === b.mesh.peerId);
    await b.mesh.start();
    await b.mesh.connect(a.mesh.addresses()[0] as string);
    expect((await back).status).toBe('online');
  });

  it('should mark a peer gone when its heartbeats stop, with its connection still open', async () => {
    const a = await startMesh('kitchen', { init: { heartbeatIntervalMs: 100 } });
    const silent = await rawPeer(a.meshKey);
    const peerId = silent.node.peerId.toString();
    const joined = nextPeerEvent(a.mesh, 'peer:join', (p) => p.id === peerId);
    const stream = await silent.node.dialProtocol(multiaddr(a.mesh.addresses()[0] as string), CARD_PROTOCOL);
    const card: NodeCard = {
      name: 'silent',
      peerId,
      softwareVersion: 'test',
      protocolVersion: PROTOCOL_VERSION,
      hardware: TEST_HARDWARE,
      backend: { state: 'down' },
      models: [],
      load: { activeTasks: 0, queueDepth: 0, slots: 1, tokensPerSecond: {} },
      specializations: [],
      issuedAt: Date.now(),
      seq: 1,
    };
    await new FramedStream(stream, { protocol: CARD_PROTOCOL }).write(
      await signedCardMessage('card', card, silent.key),
    );
    await joined;
    // The raw peer never sends a heartbeat: after HEARTBEAT_MISS_THRESHOLD missed ones it is gone.
    const gone = await nextPeerEvent(a.mesh, 'peer:leave', (p) => p.id === peerId);
    expect(gone.status).toBe('gone');
    expect(silent.node.getConnections().some((c) => c.remotePeer.toString() === a.mesh.peerId)).toBe(true);
  });

  it('should swap the key with setKey, keep its handlers and meet its peer again on the new key', async () => {
    const [a, b] = await pair();
    let served: (peer: string) => void = () => undefined;
    const reached = new Promise<string>((resolve) => {
      served = resolve;
    });
    b.mesh.handle('/allerac/test-echo/1.0.0', (stream, peer) => {
      served(peer);
      stream.abort(new Error('done'));
    });
    const key = generateMeshKey();
    const aBack = nextPeerEvent(a.mesh, 'peer:join', (p) => p.id === b.mesh.peerId);
    const aGone = nextPeerEvent(a.mesh, 'peer:leave', (p) => p.id === b.mesh.peerId);
    const aListensOn = a.mesh.addresses();
    await writeMeshKey(a.meshKeyFile, key);
    await a.mesh.setKey(key);
    await aGone;
    // The transport restarted on the same port, so b's remembered address stays valid.
    expect(a.mesh.addresses()).toEqual(aListensOn);
    await b.mesh.setKey(key);
    await aBack;
    // The handler registered before the swap serves a stream opened after it.
    const stream = await a.mesh.openStream(b.mesh.peerId, '/allerac/test-echo/1.0.0');
    if (stream.status === 'open') stream.send(new Uint8Array([1]));
    expect(await reached).toBe(a.mesh.peerId);
  });

  it('should not connect to a node on another key', async () => {
    const a = await startMesh('kitchen');
    const stranger = await startMesh('neighbour');
    await expect(stranger.mesh.connect(a.mesh.addresses()[0] as string)).rejects.toThrow();
    expect(a.mesh.peers()).toEqual([]);
  });
});
