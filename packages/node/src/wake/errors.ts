/** Failures of Wake-on-LAN: each maps to its own HTTP status at the edge (http/errors.ts). */
import { ConflictError, NotFoundError, RateLimitedError } from '../errors.js';

/** A magic packet for this peer went out less than the rate limit ago. */
export class WakeRateLimitedError extends RateLimitedError {
  override name = 'WakeRateLimitedError';
  constructor(peerName: string, retryAfterSeconds: number) {
    super(
      `a wake-up packet went to ${peerName} less than a minute ago; try again in ${retryAfterSeconds} s`,
      retryAfterSeconds,
      { code: 'wake_rate_limited' },
    );
  }
}

/** The peer is not one this node knows as paired (never seen on the mesh, or removed). */
export class UnknownSleeperError extends NotFoundError {
  override name = 'UnknownSleeperError';
  constructor(peer: string) {
    super(`no paired machine ${peer} is known to this node`, { code: 'unknown_peer' });
  }
}

/** The peer cannot be woken: its card names no LAN MAC, or it says Wake-on-LAN is off, or it is awake. */
export class NotWakeableError extends ConflictError {
  override name = 'NotWakeableError';
  constructor(peerName: string, why: string) {
    super(`${peerName} cannot be woken: ${why}`, { code: 'not_wakeable' });
  }
}

/** Waking is turned off on this node (`wake.enabled`). */
export class WakeDisabledError extends ConflictError {
  override name = 'WakeDisabledError';
  constructor() {
    super('Wake-on-LAN is turned off on this node (Settings, wake.enabled)', { code: 'wake_disabled' });
  }
}
