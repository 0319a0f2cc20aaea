import { CARD_PROTOCOL, MAX_STREAM_OPENS_PER_WINDOW } from '@allerac/protocol';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, rawPeer, startMesh } from './fixtures.js';

afterEach(cleanupAll);

describe('stream admission', () => {
  it('should cut off a peer whose flood of streams never gets past protocol negotiation', async () => {
    const { mesh, meshKey } = await startMesh('subject');
    const flooder = await rawPeer(meshKey);
    const target = multiaddr(mesh.addresses()[0] as string);
    const connection = await flooder.node.dial(target);
    const cut = flooder.disconnected(mesh.peerId);
    // Each stream asks for a protocol the subject does not speak: libp2p refuses it during
    // negotiation without calling any handler, so only a count taken where streams arrive sees
    // this flood.
    for (let i = 0; i <= MAX_STREAM_OPENS_PER_WINDOW * 2 && connection.status === 'open'; i++) {
      await connection
        .newStream('/allerac/no-such-protocol/1.0.0', { maxOutboundStreams: 1024 })
        .catch(() => undefined);
    }
    await cut;
    // Backed off: a new connection from the flooder is refused at once.
    await expect(flooder.node.dialProtocol(target, CARD_PROTOCOL)).rejects.toThrow();
  });

  it('should cut off a peer that floods from the moment its connection opens', async () => {
    const { mesh, meshKey } = await startMesh('subject');
    const flooder = await rawPeer(meshKey);
    const target = multiaddr(mesh.addresses()[0] as string);
    const connection = await flooder.node.dial(target);
    const cut = flooder.disconnected(mesh.peerId);
    // All at once: the subject is still building the connection (asking its gater) when they
    // arrive, so they reach its muxer before libp2p listens for streams on it.
    await Promise.all(
      Array.from({ length: MAX_STREAM_OPENS_PER_WINDOW * 2 }, () =>
        connection
          .newStream(CARD_PROTOCOL, { maxOutboundStreams: 1024 })
          .then((s) => s.send(new Uint8Array([1])))
          .catch(() => undefined),
      ),
    );
    await cut;
    await expect(flooder.node.dialProtocol(target, CARD_PROTOCOL)).rejects.toThrow();
  });

  it('should keep a peer that opens and closes a few streams at a normal pace', async () => {
    const { mesh, meshKey } = await startMesh('subject');
    const peer = await rawPeer(meshKey);
    const connection = await peer.node.dial(multiaddr(mesh.addresses()[0] as string));
    for (let i = 0; i < MAX_STREAM_OPENS_PER_WINDOW / 2; i++) {
      const stream = await connection.newStream(CARD_PROTOCOL, { negotiateFully: false });
      stream.abort(new Error('done'));
    }
    // A stream negotiated after the burst proves the connection survived it.
    const stream = await connection.newStream(CARD_PROTOCOL);
    expect(stream.protocol).toBe(CARD_PROTOCOL);
    expect(connection.status).toBe('open');
    stream.abort(new Error('done'));
  });
});
