import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p } from '@libp2p/interface';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Dialer } from '../src/dialer.js';
import { formatSwarmKey, generateMeshKey } from '../src/index.js';

const hosts: Libp2p[] = [];
afterEach(async () => {
  await Promise.allSettled(hosts.splice(0).map((h) => h.stop()));
});

async function host(meshKey: Uint8Array): Promise<Libp2p> {
  const node = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: preSharedKey({ psk: formatSwarmKey(meshKey) }),
    connectionGater: { denyDialMultiaddr: () => false },
  });
  hosts.push(node);
  return node;
}

describe('dialer', () => {
  it('should dial a peer discovered while the mesh was still starting, once it runs', async () => {
    const meshKey = generateMeshKey();
    const [self, other] = [await host(meshKey), await host(meshKey)];
    const dialer = new Dialer({
      logger: pino({ level: 'silent' }),
      node: () => self,
      reachedButRefused: () => {},
    });
    // What libp2p does on an mDNS answer: the peer enters the peer store, reported once.
    await self.peerStore.merge(other.peerId, { multiaddrs: other.getMultiaddrs() });
    dialer.discovered(other.peerId.toString(), other.getMultiaddrs().map(String));
    expect(self.getConnections(other.peerId)).toEqual([]);

    const connected = new Promise<void>((resolve) =>
      self.addEventListener('peer:connect', (evt) => {
        if (evt.detail.equals(other.peerId)) resolve();
      }),
    );
    dialer.start();
    await connected;
    expect(dialer.known.has(other.peerId.toString())).toBe(true);
  });
});
