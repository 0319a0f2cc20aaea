/**
 * Stream admission: refuses streams of denied peers, caps each peer's concurrent streams per
 * protocol, and cuts off a peer that opens streams faster than any honest one.
 *
 * Opens are counted where every inbound stream arrives, on the connection's muxer, and not only
 * once libp2p has negotiated a protocol and called a handler: libp2p drops some streams before
 * that (a negotiation that times out, a stream the opener resets at once), and a flood made of
 * such streams would otherwise never reach the threshold.
 */
import {
  INFER_PROTOCOL,
  MAX_INBOUND_STREAMS,
  MAX_INFER_OPENS_PER_WINDOW,
  MAX_STREAM_OPENS_PER_WINDOW,
  type ProtocolId,
  STREAM_FLOOD_WINDOW_MS,
} from '@allerac/protocol';
import type { Connection, Stream, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { PeerPolicy } from './peer-policy.js';

/** Handler of an application protocol stream. */
export type MeshStreamHandler = (stream: Stream, peerId: string) => void | Promise<void>;

/** What admission reads and whom it tells. */
export interface StreamAdmissionComponents {
  logger: Logger;
  policy: Pick<PeerPolicy, 'isDenied' | 'misbehave'>;
}

type Kind = 'infer' | 'other';

/** Per-peer stream counting, shared by every transport of one mesh. */
export class StreamAdmission {
  private readonly opens = new Map<string, number[]>();
  private readonly concurrent = new Map<string, number>();
  /** Streams that reached a handler, where they were counted with their protocol. */
  private readonly handled = new WeakSet<Stream>();
  /** Muxers created and not yet tied to a connection (and so to a peer). */
  private readonly unbound = new Set<StreamMuxer>();
  private readonly peerOf = new WeakMap<StreamMuxer, string>();

  constructor(private readonly components: StreamAdmissionComponents) {}

  /** Wraps a muxer factory so that this admission sees each inbound stream as it arrives. */
  muxer<C>(factory: (components: C) => StreamMuxerFactory): (components: C) => StreamMuxerFactory {
    return (components) => {
      const inner = factory(components);
      return {
        protocol: inner.protocol,
        createStreamMuxer: (maConn) => {
          const muxer = inner.createStreamMuxer(maConn);
          this.watch(muxer);
          return muxer;
        },
      };
    };
  }

  /** libp2p's `connection:open`: ties the connection's muxer to its peer. */
  connectionOpened(connection: Connection): void {
    for (const muxer of this.unbound) {
      if (muxer.status !== 'open') this.unbound.delete(muxer);
      // A connection's `streams` is its muxer's own list, the one link libp2p exposes between them.
      else if (muxer.streams === connection.streams) {
        this.peerOf.set(muxer, connection.remotePeer.toString());
        this.unbound.delete(muxer);
      }
    }
  }

  /** Wraps a handler with the deny list, flood detection and per-peer concurrency limits. */
  wrap(protocol: string, handler: MeshStreamHandler) {
    return (stream: Stream, connection: Connection) => {
      const peer = connection.remotePeer.toString();
      this.handled.add(stream);
      if (this.components.policy.isDenied(peer)) {
        stream.abort(new Error('peer is blocked or backed off'));
        return;
      }
      if (this.count(peer, protocol === INFER_PROTOCOL ? 'infer' : 'other')) {
        stream.abort(new Error('stream flood'));
        return;
      }
      const slot = `${peer} ${protocol}`;
      const limit = MAX_INBOUND_STREAMS[protocol as ProtocolId] ?? 32;
      const active = this.concurrent.get(slot) ?? 0;
      if (active >= limit) {
        stream.abort(new Error('too many concurrent streams'));
        return;
      }
      this.concurrent.set(slot, active + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const n = (this.concurrent.get(slot) ?? 1) - 1;
        if (n <= 0) this.concurrent.delete(slot);
        else this.concurrent.set(slot, n);
      };
      stream.addEventListener('close', release, { once: true });
      Promise.resolve()
        .then(() => handler(stream, peer))
        .catch((err: unknown) => {
          this.components.logger.warn(
            { event: 'stream-handler-failed', protocol, peer, err: String(err) },
            'stream handler failed',
          );
          stream.abort(err instanceof Error ? err : new Error(String(err)));
        });
    };
  }

  /**
   * Listens for the muxer's inbound streams. The listener is added together with libp2p's own
   * (the connection adds its listener when it is built): added earlier, it would take the muxer's
   * early streams, which the muxer hands only to its first listener, away from libp2p.
   */
  private watch(muxer: StreamMuxer): void {
    // Muxers of upgrades that failed (a gated peer) never get a connection; drop them here.
    for (const old of this.unbound) if (old.status !== 'open') this.unbound.delete(old);
    this.unbound.add(muxer);
    const add = muxer.addEventListener.bind(muxer) as StreamMuxer['addEventListener'];
    let watching = false;
    muxer.addEventListener = ((type: string, listener: never, options?: never) => {
      if (type === 'stream' && !watching) {
        watching = true;
        add('stream', (evt) => this.arrived(muxer, evt.detail));
      }
      add(type as 'stream', listener, options);
    }) as StreamMuxer['addEventListener'];
  }

  /** A stream that closes without reaching a handler is counted then, as one of no protocol. */
  private arrived(muxer: StreamMuxer, stream: Stream): void {
    const peer = this.peerOf.get(muxer);
    if (peer === undefined) return;
    stream.addEventListener(
      'close',
      () => {
        if (!this.handled.has(stream) && !this.components.policy.isDenied(peer)) this.count(peer, 'other');
      },
      { once: true },
    );
  }

  /** Counts one open; true (after cutting the peer off) when it makes a flood. */
  private count(peer: string, kind: Kind): boolean {
    const now = Date.now();
    const key = kind === 'infer' ? `${peer} infer` : peer;
    const opens = (this.opens.get(key) ?? []).filter((t) => now - t < STREAM_FLOOD_WINDOW_MS);
    opens.push(now);
    this.opens.set(key, opens);
    if (opens.length <= (kind === 'infer' ? MAX_INFER_OPENS_PER_WINDOW : MAX_STREAM_OPENS_PER_WINDOW))
      return false;
    this.components.policy.misbehave(
      peer,
      'stream-flood',
      new Error(`${opens.length} streams in ${STREAM_FLOOD_WINDOW_MS} ms`),
    );
    return true;
  }
}
