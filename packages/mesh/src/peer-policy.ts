/**
 * Who this node talks to: the blocklist of the key state, peers being removed, and the doubling
 * back-off of peers that misbehaved.
 */
import { MAX_MISBEHAVIOUR_BACKOFF_MS, MISBEHAVIOUR_BACKOFF_MS } from '@allerac/protocol';
import type { Logger } from 'pino';
import type { MeshState } from './mesh-state.js';

/** What the policy reads and whom it tells. */
export interface PeerPolicyComponents {
  logger: Logger;
  /** The current key state (blocklist, out of date). */
  state: () => MeshState;
  /** Called when a peer is cut off: the mesh marks it gone and hangs up on it. */
  cutOff: (peer: string, reason: string) => void;
}

/** The deny list and the misbehaviour back-off. */
export class PeerPolicy {
  /** Peers being removed right now: refused while their rotation is under way. */
  readonly removing = new Set<string>();
  private readonly backoff = new Map<string, { until: number; strikes: number }>();

  constructor(private readonly components: PeerPolicyComponents) {}

  /** Whether `peer` is refused now. */
  isDenied(peer: string): boolean {
    const state = this.components.state();
    // Out of date, this node's key is one that removed nodes may still hold: it talks to nobody.
    if (state.outOfDate !== undefined) return true;
    if (state.blocked.includes(peer) || this.removing.has(peer)) return true;
    const b = this.backoff.get(peer);
    return b !== undefined && b.until > Date.now();
  }

  /** Cuts a misbehaving peer off and backs it off, doubling the back-off on each repeat. */
  misbehave(peer: string, reason: string, err: unknown): void {
    const previous = this.backoff.get(peer);
    const strikes = (previous?.strikes ?? 0) + 1;
    const backoffMs = Math.min(MAX_MISBEHAVIOUR_BACKOFF_MS, MISBEHAVIOUR_BACKOFF_MS * 2 ** (strikes - 1));
    this.backoff.set(peer, { until: Date.now() + backoffMs, strikes });
    this.components.logger.warn(
      {
        event: 'peer-misbehaved',
        peer,
        reason,
        error: err instanceof Error ? err.name : 'unknown',
        detail: err instanceof Error ? err.message : String(err),
        backoffMs,
        strikes,
      },
      'peer cut off',
    );
    this.components.cutOff(peer, reason);
  }
}
