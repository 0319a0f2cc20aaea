/**
 * The inference channels of one mesh, one per peer: opened when the peer joins (so no request
 * pays for opening a stream), reopened by the next request after one breaks.
 */
import type { Mesh } from '@allerac/mesh';
import { INFER_CHANNEL_PROTOCOL } from '@allerac/protocol';
import { PeerLostError } from './errors.js';
import { InferChannel } from './infer-channel.js';

/** Opening a channel's stream may take this long (a dial on a busy host included). */
const OPEN_TIMEOUT_MS = 10_000;

/** The channels of one mesh. */
export class InferChannelPool {
  private readonly channels = new Map<string, InferChannel>();
  private readonly opening = new Map<string, Promise<InferChannel>>();
  private warming = false;

  constructor(private readonly mesh: Mesh) {}

  /** Opens channels to every online peer now, and to each peer as it joins; idempotent. */
  warm(): void {
    if (this.warming) return;
    this.warming = true;
    this.mesh.addEventListener('peer:join', (event) => this.prepare(event.detail.id));
    try {
      for (const peer of this.mesh.peers()) if (peer.status === 'online') this.prepare(peer.id);
    } catch {
      // Not started yet: its peers will join.
    }
  }

  /** The open channel to a peer, if there is one: the request path's fast case. */
  current(peerId: string): InferChannel | undefined {
    const channel = this.channels.get(peerId);
    return channel?.isOpen === true ? channel : undefined;
  }

  /** The channel to a peer, opening one if need be; throws PeerLostError or the signal's reason. */
  async channel(peerId: string, signal: AbortSignal): Promise<InferChannel> {
    const open = this.current(peerId);
    if (open !== undefined) return open;
    let pending = this.opening.get(peerId);
    if (pending === undefined) {
      pending = this.open(peerId);
      this.opening.set(peerId, pending);
      const forget = () => this.opening.delete(peerId);
      pending.then(forget, forget);
    }
    return raceSignal(pending, signal);
  }

  private prepare(peerId: string): void {
    this.channel(peerId, new AbortController().signal).catch(() => {
      // A warm-up that fails is retried by the first request that needs the peer.
    });
  }

  private async open(peerId: string): Promise<InferChannel> {
    try {
      const stream = await this.mesh.openStream(
        peerId,
        INFER_CHANNEL_PROTOCOL,
        AbortSignal.timeout(OPEN_TIMEOUT_MS),
      );
      const channel = new InferChannel(stream, peerId, (ended) => {
        if (this.channels.get(peerId) === ended) this.channels.delete(peerId);
      });
      this.channels.set(peerId, channel);
      return channel;
    } catch (error) {
      throw new PeerLostError(`could not reach peer ${peerId}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

/** The pool of each mesh, made on first use. */
const pools = new WeakMap<Mesh, InferChannelPool>();

/**
 * The channel pool of `mesh`, made on first use; from then on it opens each peer's channel as the
 * peer joins, ahead of the request that needs it.
 */
export function channelPoolOf(mesh: Mesh): InferChannelPool {
  let pool = pools.get(mesh);
  if (pool === undefined) {
    pool = new InferChannelPool(mesh);
    pools.set(mesh, pool);
    pool.warm();
  }
  return pool;
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
