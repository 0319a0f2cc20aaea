/**
 * Binds shared-space sync to the mesh: one outbound `/allerac/sync/1.0.0` stream per online peer
 * carries this node's messages; the peer's own outbound stream (our inbound) carries its
 * messages. Frames are validated by FramedStream before SpaceSync sees them.
 */

import { type SpaceSync, type SpaceSyncWireMessage, UnknownSpaceError } from '@allerac/memory-sync';
import type { Mesh, PeerView } from '@allerac/mesh';
import { encodeFrame, FramedStream, MAX_SYNC_FRAME_BYTES, SYNC_PROTOCOL } from '@allerac/protocol';
import type { Logger } from 'pino';

/** Options of the binding. */
export interface SpaceSyncTransportOptions {
  /** Sees every sync frame exactly as sent to a peer (tests use it to prove what leaves the node). */
  onOutboundFrame?: (peer: string, frame: Uint8Array) => void;
}

/** The running binding. */
export interface SpaceSyncTransport {
  /** Closes the sync streams and stops following peers; idempotent. */
  stop(): Promise<void>;
}

interface Outbound {
  framed: FramedStream;
  queue: Promise<void>;
}

/** Starts syncing `sync`'s spaces with the mesh's peers. */
export function bindSpaceSyncToMesh(
  mesh: Mesh,
  sync: SpaceSync,
  logger: Logger,
  options: SpaceSyncTransportOptions = {},
): SpaceSyncTransport {
  const outbound = new Map<string, Outbound>();
  const opening = new Set<string>();
  let stopped = false;

  const drop = (peer: string, reason: string) => {
    const current = outbound.get(peer);
    outbound.delete(peer);
    sync.removePeer(peer);
    current?.framed.abort(new Error(reason));
  };

  const open = async (peer: string) => {
    if (stopped || outbound.has(peer) || opening.has(peer)) return;
    opening.add(peer);
    try {
      const stream = await mesh.openStream(peer, SYNC_PROTOCOL, AbortSignal.timeout(10_000));
      if (stopped) {
        stream.abort(new Error('sync stopped'));
        return;
      }
      const entry: Outbound = {
        framed: new FramedStream(stream, { protocol: SYNC_PROTOCOL }),
        queue: Promise.resolve(),
      };
      outbound.set(peer, entry);
      sync.addPeer(peer, (message: SpaceSyncWireMessage) => {
        if (options.onOutboundFrame !== undefined) {
          options.onOutboundFrame(peer, encodeFrame(message, { maxFrameBytes: MAX_SYNC_FRAME_BYTES }));
        }
        entry.queue = entry.queue
          .then(() => entry.framed.write(message, { signal: AbortSignal.timeout(30_000) }))
          .catch((error: unknown) => {
            if (outbound.get(peer) !== entry) return;
            logger.warn({ peer, err: error }, 'sync stream failed; resyncing on the next join');
            drop(peer, 'write failed');
          });
      });
    } catch (error) {
      logger.debug({ peer, err: error }, 'cannot open a sync stream');
    } finally {
      opening.delete(peer);
    }
  };

  const onJoin = (evt: CustomEvent<PeerView>) => void open(evt.detail.id);
  // Mesh listeners must not throw: an EventTarget reports that as an uncaught exception.
  const onLeave = (evt: CustomEvent<PeerView>) => {
    try {
      drop(evt.detail.id, 'peer left');
    } catch (error) {
      logger.warn({ peer: evt.detail.id, err: error }, 'could not drop a departed peer');
    }
  };

  mesh.handle(SYNC_PROTOCOL, async (stream, peer) => {
    const framed = new FramedStream(stream, { protocol: SYNC_PROTOCOL });
    // A peer's inbound stream can arrive before we saw it join: make sure ours is open too.
    void open(peer);
    try {
      for await (const message of framed.messages()) {
        if (stopped) break;
        await sync.receive(peer, message).catch((error: unknown) => {
          // A peer offering a space this node does not hold is normal; anything else is worth a warning.
          const level = error instanceof UnknownSpaceError ? 'debug' : 'warn';
          logger[level]({ peer, err: error }, 'sync message refused');
        });
      }
    } catch (error) {
      logger.warn({ peer, err: error }, 'malformed sync stream; closing it');
      framed.abort(error as Error);
    }
  });
  mesh.addEventListener('peer:join', onJoin);
  mesh.addEventListener('peer:leave', onLeave);
  for (const peer of mesh.peers()) if (peer.status === 'online') void open(peer.id);

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      mesh.removeEventListener('peer:join', onJoin);
      mesh.removeEventListener('peer:leave', onLeave);
      for (const peer of [...outbound.keys()]) drop(peer, 'sync stopped');
    },
  };
}
