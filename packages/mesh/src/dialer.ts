/**
 * Redial of known peers, the part libp2p lacks. libp2p 3's reconnect queue redials a KEEP_ALIVE
 * peer after a drop, but only `reconnectRetries` times, after which it deletes the peer's
 * KEEP_ALIVE tags (`peer:reconnect-failure`); it dials KEEP_ALIVE peers once at start; and mDNS
 * announces a peer only once (when it is new to the peer store). A peer away longer than the
 * retries, or a first dial lost in a start-up storm, would never be dialled again. So every
 * heartbeat tick dials each known, unconnected peer, paced by a doubling back-off per peer.
 */
import type { Libp2p } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Logger } from 'pino';

/** A dial that failed (wrong key, unreachable) is not retried before this; doubles per failure. */
const DIAL_FAILURE_BACKOFF_MS = 5_000;
/** Cap of the doubling dial back-off: the pace at which the tick retries an absent peer. */
const DIAL_FAILURE_BACKOFF_MAX_MS = 15_000;
/** Timeout of a dial to a discovered or known peer; generous because a busy host upgrades slowly. */
const DIAL_TIMEOUT_MS = 10_000;

/** What the dialer reads and whom it tells. */
export interface DialerComponents {
  logger: Logger;
  node: () => Libp2p | undefined;
  /** A dial reached the peer's host but failed the handshake: it may be on a retired key. */
  reachedButRefused: (peer: string) => void;
}

/** The peers this node keeps dialling until connected. */
export class Dialer {
  /** Peers found by discovery, remembered, or met on a connection. */
  readonly known = new Set<string>();
  /** Peers with a dial of ours in flight, so the tick does not stack dials. */
  private readonly dialing = new Set<string>();
  private readonly failures = new Map<string, { at: number; count: number }>();
  /** Whether the mesh is running: until then discoveries are only remembered. */
  private active = false;

  constructor(private readonly components: DialerComponents) {}

  /**
   * The mesh runs: dials every peer known so far. mDNS answers arrive as soon as the host
   * starts, before the mesh has finished starting, and libp2p reports a peer only once (when it
   * is new to the peer store): a discovery of that window must wait here, not be dropped.
   */
  start(): void {
    this.active = true;
    for (const peer of this.known) void this.dial(peer, 'start');
  }

  stop(): void {
    this.active = false;
  }

  /** Discovery found `peer`: it is known from now on, and dialled while the mesh runs. */
  discovered(peer: string, addresses: string[]): void {
    this.known.add(peer);
    if (this.active) void this.dial(peer, 'discovery', addresses);
  }

  /** A connection to `peer` opened. */
  connected(peer: string): void {
    this.failures.delete(peer);
    this.known.add(peer);
  }

  /** Forgets past failures (a new key may succeed where the old one failed). */
  resetFailures(): void {
    this.failures.clear();
  }

  /** Dials a peer unless connected, already dialling or backing off after a failed dial. */
  async dial(peer: string, reason: string, addresses?: string[]): Promise<void> {
    const node = this.components.node();
    if (node === undefined) return;
    const id = peerIdFromString(peer);
    if (this.dialing.has(peer) || node.getConnections(id).length > 0) return;
    const failed = this.failures.get(peer);
    if (failed !== undefined && Date.now() - failed.at < dialBackoffMs(failed.count)) return;
    this.dialing.add(peer);
    try {
      await node.dial(id, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
      this.failures.delete(peer);
    } catch (err) {
      // A dial that the host's own stop aborted says nothing about the peer.
      if (this.components.node() !== node || node.status !== 'started') return;
      const count = (this.failures.get(peer)?.count ?? 0) + 1;
      this.failures.set(peer, { at: Date.now(), count });
      if (reachedHost(err)) this.components.reachedButRefused(peer);
      this.components.logger.debug(
        {
          event: 'dial-failed',
          peer,
          reason,
          failures: count,
          addresses,
          err: String(err),
          causes: err instanceof AggregateError ? err.errors.map(String) : undefined,
        },
        'dial failed',
      );
    } finally {
      this.dialing.delete(peer);
    }
  }

  /** Dials the configured bootstrap addresses once (libp2p has no bootstrap list without a module). */
  bootstrap(addresses: readonly string[]): void {
    const node = this.components.node();
    for (const address of addresses) {
      void node
        ?.dial(multiaddr(address), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
        .catch((err: unknown) => {
          this.components.logger.debug(
            { event: 'bootstrap-dial-failed', address, err: String(err) },
            'bootstrap dial failed',
          );
        });
    }
  }
}

/**
 * Whether a failed dial got as far as the other host: a refused, unreachable or timed-out TCP
 * connect means it is down, whereas a handshake that breaks off is what a peer on another key gives.
 */
function reachedHost(err: unknown): boolean {
  const causes = err instanceof AggregateError ? err.errors : [err];
  const down = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EADDRNOTAVAIL|TimeoutError|aborted/i;
  return causes.some((cause) => !down.test(`${(cause as Error)?.name ?? ''} ${String(cause)}`));
}

/** Back-off after `failures` failed dials: DIAL_FAILURE_BACKOFF_MS doubling, capped. */
function dialBackoffMs(failures: number): number {
  return Math.min(DIAL_FAILURE_BACKOFF_MAX_MS, DIAL_FAILURE_BACKOFF_MS * 2 ** Math.max(0, failures - 1));
}
