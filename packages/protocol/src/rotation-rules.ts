/**
 * The rules a receiver applies to a signed key rotation before it may adopt it (protocol.md §9).
 * Pure: the caller passes its own state and the time. The signature is checked apart, by
 * `verifyKeyRotation`; corroboration by the other peers is the host's business.
 */
import { KEY_ROTATION_MAX_SKEW_MS } from './constants.js';
import { KeyRotationRefusedError } from './errors.js';
import type { KeyRotation } from './messages.js';

/** What the receiver knows when it judges a rotation. */
export interface KeyRotationContext {
  /** The receiver's own peer id. */
  self: string;
  /** `meshKeyId` of the key the receiver holds now. */
  keyId: string;
  /** The receiver's key epoch; null when it does not know it (it joined with a code since). */
  epoch: number | null;
  /** The receiver's blocklist. */
  blocked: readonly string[];
}

/** Extra context of a rotation delivered live by `key-rotate`. */
export interface KeyRotateContext extends KeyRotationContext {
  /** The peer that delivered it, as the connection authenticated it. */
  sender: string;
  /** Whether a peer is a current member: a verified card on the current key, not blocked. */
  trusted: (peer: string) => boolean;
  /** The receiver's clock, ms since the Unix epoch. */
  now: number;
}

const refuse = (reason: KeyRotationRefusedError['reason'], message: string, misbehaviour = false) =>
  new KeyRotationRefusedError(reason, message, misbehaviour);

/** The checks `key-rotate` and `key-notice` share; returns the peer ids the rotation adds. */
function checkHistory(rotation: KeyRotation, ctx: KeyRotationContext): string[] {
  if (rotation.previousKeyId !== ctx.keyId) {
    throw refuse('wrong-key', 'the rotation replaces a key this node does not hold');
  }
  if (new Set(rotation.blocked).size !== rotation.blocked.length) {
    throw refuse('blocklist', 'the blocklist names a peer twice', true);
  }
  if (rotation.blocked.includes(rotation.issuer)) {
    throw refuse('blocks-issuer', 'the rotation blocks its own issuer', true);
  }
  if (ctx.epoch === null) {
    // A node that joined with a code knows neither the epoch nor the blocklist of its new key; it
    // relies on the corroboration by its peers, who do.
    return rotation.blocked.filter((p) => !ctx.blocked.includes(p));
  }
  if (rotation.epoch !== ctx.epoch + 1) {
    throw refuse('epoch', `the rotation starts epoch ${rotation.epoch}; this node is at ${ctx.epoch}`);
  }
  const kept = new Set(rotation.blocked);
  if (ctx.blocked.some((p) => !kept.has(p))) {
    throw refuse('blocklist', 'the rotation unblocks a removed peer');
  }
  return rotation.blocked.filter((p) => !ctx.blocked.includes(p));
}

/**
 * Judges a rotation delivered by `key-rotate`. It must come from its issuer, a trusted member; it
 * must replace the receiver's key, start the next epoch, keep the blocklist and add exactly one
 * peer that is neither the receiver nor the issuer, and be recent. Returns the removed peer id;
 * throws KeyRotationRefusedError.
 */
export function checkKeyRotation(rotation: KeyRotation, ctx: KeyRotateContext): string {
  if (rotation.issuer !== ctx.sender) {
    throw refuse('not-issuer', 'a rotation is delivered by its issuer only, never relayed', true);
  }
  if (!ctx.trusted(rotation.issuer)) {
    throw refuse('not-trusted', 'the issuer is not a current member of this home');
  }
  if (rotation.blocked.includes(ctx.self)) {
    throw refuse('blocks-receiver', 'the rotation removes its receiver', true);
  }
  const added = checkHistory(rotation, ctx);
  if (added.length === 0) throw refuse('blocklist', 'the rotation removes nobody');
  if (added.length > 1 && ctx.epoch !== null) {
    throw refuse('blocklist', `a rotation removes exactly one peer; this one adds ${added.length}`, true);
  }
  if (Math.abs(ctx.now - rotation.issuedAt) > KEY_ROTATION_MAX_SKEW_MS) {
    throw refuse('clock', 'the rotation was issued too far from this node’s clock');
  }
  return added[added.length - 1] as string;
}

/**
 * Judges a `key-notice`: a rotation that retired the receiver's current key while it was away.
 * It must replace that very key, follow the receiver's epoch and keep its blocklist. No clock
 * check: the rotation is old news by nature. Returns whether it removed the receiver itself.
 */
export function checkKeyNotice(rotation: KeyRotation, ctx: KeyRotationContext): { removed: boolean } {
  if (ctx.blocked.includes(rotation.issuer)) {
    throw refuse('not-trusted', 'the issuer was removed from this home');
  }
  checkHistory(rotation, ctx);
  return { removed: rotation.blocked.includes(ctx.self) };
}
