/**
 * The invitations a node has handed out: each valid for INVITATION_TTL_MS, used at most once, and
 * burnt after MAX_WRONG_PROOFS proofs that match no live invitation. Spent ones are remembered for
 * a while so a late joiner hears why its code no longer works.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { MeshConflictError } from './errors.js';
import { INVITATION_SECRET_BYTES } from './join-code.js';

/** How long an invitation can be used: long enough to walk to the other machine. */
export const INVITATION_TTL_MS = 10 * 60_000;
/** Wrong proofs a live invitation survives; the last one burns it, so a guesser has this many tries. */
export const MAX_WRONG_PROOFS = 3;
/** Live invitations at once: a home invites a few machines, not a crowd. */
export const MAX_LIVE_INVITATIONS = 8;

/** Why an invitation can no longer be used. */
export type SpentReason = 'used' | 'expired' | 'burnt';

/** A live invitation. */
export interface Invitation {
  id: string;
  secret: Buffer;
  createdAt: number;
  expiresAt: number;
}

/** Too many invitations are live; one must be used or expire first. */
export class TooManyInvitationsError extends MeshConflictError {
  override name = 'TooManyInvitationsError';
  constructor() {
    super(
      `at most ${MAX_LIVE_INVITATIONS} invitations can be open at once; use one or wait for one to expire`,
    );
  }
}

/** What a proof matched. */
export type Redemption =
  | { kind: 'invitation'; invitation: Invitation; encKey: Buffer }
  | { kind: 'spent'; reason: SpentReason }
  | { kind: 'wrong'; burnt: number };

/** The live and recently spent invitations of one node. */
export class InvitationBook {
  private readonly live = new Map<string, Invitation & { wrong: number }>();
  private spent: Array<{ secret: Buffer; reason: SpentReason; forgetAt: number }> = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Opens a new invitation. */
  create(): Invitation {
    this.prune();
    if (this.live.size >= MAX_LIVE_INVITATIONS) throw new TooManyInvitationsError();
    const createdAt = this.now();
    const invitation = {
      id: randomUUID(),
      secret: randomBytes(INVITATION_SECRET_BYTES),
      createdAt,
      expiresAt: createdAt + INVITATION_TTL_MS,
      wrong: 0,
    };
    this.live.set(invitation.id, invitation);
    return { ...invitation };
  }

  /** Live invitations, soonest expiry first. */
  open(): Invitation[] {
    this.prune();
    return [...this.live.values()].sort((a, b) => a.expiresAt - b.expiresAt);
  }

  /** Whether `secret` is one of this node's invitations, live or recently spent. */
  knows(secret: Uint8Array): boolean {
    const s = Buffer.from(secret);
    return [...this.live.values(), ...this.spent].some((entry) => entry.secret.equals(s));
  }

  /**
   * Finds the invitation whose secret makes `check` succeed and uses it up. A proof that matches
   * no invitation, live or spent, counts as a wrong proof against every live one (the proof does
   * not say which it was meant for), which burns those at their MAX_WRONG_PROOFS-th.
   */
  redeem(check: (secret: Buffer) => Buffer | undefined): Redemption {
    this.prune();
    for (const invitation of this.live.values()) {
      const encKey = check(invitation.secret);
      if (encKey === undefined) continue;
      this.spend(invitation, 'used');
      const { wrong: _wrong, ...rest } = invitation;
      return { kind: 'invitation', invitation: rest, encKey };
    }
    for (const entry of this.spent) {
      if (check(entry.secret) !== undefined) return { kind: 'spent', reason: entry.reason };
    }
    let burnt = 0;
    for (const invitation of [...this.live.values()]) {
      invitation.wrong += 1;
      if (invitation.wrong >= MAX_WRONG_PROOFS) {
        this.spend(invitation, 'burnt');
        burnt += 1;
      }
    }
    return { kind: 'wrong', burnt };
  }

  /** Withdraws an invitation before it is used. */
  revoke(id: string): boolean {
    const invitation = this.live.get(id);
    if (invitation === undefined) return false;
    this.spend(invitation, 'expired');
    return true;
  }

  /** Forgets every invitation. */
  clear(): void {
    this.live.clear();
    this.spent = [];
  }

  private spend(invitation: Invitation, reason: SpentReason): void {
    this.live.delete(invitation.id);
    this.spent.push({
      secret: invitation.secret,
      reason,
      forgetAt: invitation.createdAt + 2 * INVITATION_TTL_MS,
    });
  }

  private prune(): void {
    const now = this.now();
    for (const invitation of [...this.live.values()]) {
      if (invitation.expiresAt <= now) this.spend(invitation, 'expired');
    }
    this.spent = this.spent.filter((entry) => entry.forgetAt > now);
  }
}
