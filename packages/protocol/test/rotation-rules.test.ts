import { describe, expect, it } from 'vitest';
import {
  checkKeyNotice,
  checkKeyRotation,
  KEY_ROTATION_MAX_SKEW_MS,
  type KeyRotateContext,
  type KeyRotation,
  KeyRotationRefusedError,
} from '../src/index.js';

const ALICE = '12D3KooWAliceAliceAliceAliceAliceAliceAliceAliceAlic';
const BOB = '12D3KooWBobBobBobBobBobBobBobBobBobBobBobBobBobBobBo';
const EVE = '12D3KooWEveEveEveEveEveEveEveEveEveEveEveEveEveEveEv';
const GONE = '12D3KooWGoneGoneGoneGoneGoneGoneGoneGoneGoneGoneGone';
const OLD = 'a0'.repeat(32);
const NOW = 1_767_225_600_000;

/** bob receives, from alice, a rotation from epoch 3 to 4 that removes eve. */
const ctx = (change: Partial<KeyRotateContext> = {}): KeyRotateContext => ({
  self: BOB,
  keyId: OLD,
  epoch: 3,
  blocked: [GONE],
  sender: ALICE,
  trusted: (p) => p === ALICE,
  now: NOW,
  ...change,
});
const rotation = (change: Partial<KeyRotation> = {}): KeyRotation => ({
  issuer: ALICE,
  epoch: 4,
  keyId: 'a1'.repeat(32),
  previousKeyId: OLD,
  blocked: [GONE, EVE],
  issuedAt: NOW,
  ...change,
});
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof KeyRotationRefusedError) return { reason: err.reason, misbehaviour: err.misbehaviour };
    throw err;
  }
  return undefined;
};

describe('rotation rules', () => {
  it('should accept the next epoch from a member that removes exactly one other peer', () => {
    expect(checkKeyRotation(rotation(), ctx())).toBe(EVE);
  });

  it.each([
    ['relayed by another peer', rotation(), ctx({ sender: EVE }), 'not-issuer', true],
    ['from a non-member', rotation(), ctx({ trusted: () => false }), 'not-trusted', false],
    ['of another key', rotation({ previousKeyId: 'b0'.repeat(32) }), ctx(), 'wrong-key', false],
    ['that skips an epoch', rotation({ epoch: 5 }), ctx(), 'epoch', false],
    ['that goes back an epoch', rotation({ epoch: 3 }), ctx(), 'epoch', false],
    ['that unblocks a removed peer', rotation({ blocked: [EVE] }), ctx(), 'blocklist', false],
    ['that removes nobody', rotation({ blocked: [GONE] }), ctx(), 'blocklist', false],
    ['that removes two', rotation({ blocked: [GONE, EVE, `${EVE}x`] }), ctx(), 'blocklist', true],
    ['that names a peer twice', rotation({ blocked: [GONE, EVE, EVE] }), ctx(), 'blocklist', true],
    ['that removes the receiver', rotation({ blocked: [GONE, BOB] }), ctx(), 'blocks-receiver', true],
    ['that removes its issuer', rotation({ blocked: [GONE, ALICE] }), ctx(), 'blocks-issuer', true],
    [
      'issued too long ago',
      rotation({ issuedAt: NOW - KEY_ROTATION_MAX_SKEW_MS - 1 }),
      ctx(),
      'clock',
      false,
    ],
    [
      'issued in the future',
      rotation({ issuedAt: NOW + KEY_ROTATION_MAX_SKEW_MS + 1 }),
      ctx(),
      'clock',
      false,
    ],
  ] as const)('should refuse a rotation %s', (_name, r, c, reason, misbehaviour) => {
    expect(refusal(() => checkKeyRotation(r, c))).toEqual({ reason, misbehaviour });
  });

  it('should let a freshly joined node (epoch unknown) accept any next epoch its key leads to', () => {
    expect(checkKeyRotation(rotation({ epoch: 9 }), ctx({ epoch: null, blocked: [] }))).toBe(EVE);
    expect(
      refusal(() => checkKeyRotation(rotation({ previousKeyId: 'b0'.repeat(32) }), ctx({ epoch: null }))),
    ).toEqual({
      reason: 'wrong-key',
      misbehaviour: false,
    });
  });
});

describe('notice rules', () => {
  const base = { self: BOB, keyId: OLD, epoch: 3, blocked: [GONE] };

  it('should accept an old notice of the rotation that retired the receiver’s key', () => {
    expect(checkKeyNotice(rotation({ issuedAt: 0 }), base)).toEqual({ removed: false });
  });

  it('should say when the rotation removed the receiver itself', () => {
    expect(checkKeyNotice(rotation({ blocked: [GONE, BOB] }), base)).toEqual({ removed: true });
  });

  it.each([
    ['of another key', rotation({ previousKeyId: 'b0'.repeat(32) }), 'wrong-key'],
    ['of a later epoch', rotation({ epoch: 6 }), 'epoch'],
    ['that unblocks a removed peer', rotation({ blocked: [EVE] }), 'blocklist'],
    ['issued by a removed peer', rotation({ issuer: GONE, blocked: [GONE, EVE] }), 'not-trusted'],
  ] as const)('should refuse a notice %s', (_name, r, reason) => {
    expect(refusal(() => checkKeyNotice(r, base))?.reason).toBe(reason);
  });
});
