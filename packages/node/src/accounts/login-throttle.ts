/** Failed logins allowed before a lockout starts. */
export const FREE_LOGIN_ATTEMPTS = 5;
/** The first lockout; each further failure doubles it. */
export const BASE_LOCKOUT_MS = 2_000;
/** The longest lockout, so a forgotten password never locks an owner out for hours. */
export const MAX_LOCKOUT_MS = 15 * 60_000;
/** Failures older than this are forgotten. */
export const FAILURE_MEMORY_MS = 60 * 60_000;
/** The most keys tracked at once, so a flood of random usernames cannot grow memory unbounded. */
export const MAX_TRACKED_KEYS = 10_000;

interface Entry {
  failures: number;
  lockedUntil: number;
  lastFailure: number;
}

/**
 * Lockout with exponential backoff after repeated failed logins, per username and per client
 * address: after FREE_LOGIN_ATTEMPTS failures every attempt waits BASE_LOCKOUT_MS, doubling up
 * to MAX_LOCKOUT_MS. A success clears the username's count.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds until these keys may try again; 0 when they may try now. */
  retryAfterMs(keys: readonly string[]): number {
    const now = this.now();
    let wait = 0;
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry !== undefined) wait = Math.max(wait, entry.lockedUntil - now);
    }
    return Math.max(0, wait);
  }

  /** Records a failed attempt against each key. */
  fail(keys: readonly string[]): void {
    const now = this.now();
    if (this.entries.size >= MAX_TRACKED_KEYS) this.prune(now);
    for (const key of keys) {
      const previous = this.entries.get(key);
      const failures =
        previous !== undefined && now - previous.lastFailure < FAILURE_MEMORY_MS ? previous.failures + 1 : 1;
      const over = failures - FREE_LOGIN_ATTEMPTS;
      const lockMs = over < 0 ? 0 : Math.min(MAX_LOCKOUT_MS, BASE_LOCKOUT_MS * 2 ** Math.min(over, 20));
      this.entries.set(key, { failures, lockedUntil: now + lockMs, lastFailure: now });
    }
  }

  /** Clears the record of each key after a successful login. */
  succeed(keys: readonly string[]): void {
    for (const key of keys) this.entries.delete(key);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.lastFailure >= FAILURE_MEMORY_MS) this.entries.delete(key);
    }
    // Still full: drop the oldest entries (Map keeps insertion order).
    for (const key of this.entries.keys()) {
      if (this.entries.size < MAX_TRACKED_KEYS) break;
      this.entries.delete(key);
    }
  }
}
