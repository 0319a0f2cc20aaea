/**
 * Whether the store can serve, for `/health`: a durable failure (a full disk, an I/O error, a
 * lost server) turns it `degraded` until a statement succeeds again. A bad statement (a unique
 * violation, a syntax error) says nothing about the store and changes nothing.
 */
import { StoreUnavailableError } from './sql.js';

/** The store's state as `/health` reports it. */
export interface StoreHealth {
  state: 'ok' | 'degraded';
  /** What failed, while degraded. */
  reason?: string;
  /** When the store entered this state (ISO time). */
  since: string;
}

/** Thrown instead of running a statement while the disk holding the database is nearly full. */
export class StoreDiskFullError extends StoreUnavailableError {
  override name = 'StoreDiskFullError';
}

/**
 * SQLSTATE classes that describe the server rather than the statement: 53 insufficient
 * resources (53100 disk full), 58 system error (I/O), 57P operator intervention (shutdown),
 * 08 connection exception, XX internal error.
 */
const DURABLE_SQLSTATE = /^(53|58|57P|08|XX)/;

/** Errno codes of a failing disk or connection. */
const DURABLE_ERRNO = new Set([
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EROFS',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** True when the error means the store itself is failing, not the statement. */
export function isDurableStoreError(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (
    typeof code === 'string' &&
    (DURABLE_ERRNO.has(code) || (code.length === 5 && DURABLE_SQLSTATE.test(code)))
  )
    return true;
  // A WebAssembly trap inside PGlite leaves that instance unusable.
  if (name === 'RuntimeError') return true;
  return (
    typeof message === 'string' &&
    /No space left on device|Connection terminated unexpectedly|PGlite is closed|Aborted\(/.test(message)
  );
}

/** Holds the store's health and tells listeners when it changes. */
export class StoreHealthTracker {
  private current: StoreHealth = { state: 'ok', since: new Date().toISOString() };
  private readonly listeners = new Set<(health: StoreHealth) => void>();

  /** The current state. */
  get(): StoreHealth {
    return { ...this.current };
  }

  /** Marks the store degraded; the reason is updated, the `since` kept while it stays degraded. */
  degraded(reason: string): void {
    const entering = this.current.state !== 'degraded';
    this.current = {
      state: 'degraded',
      reason,
      since: entering ? new Date().toISOString() : this.current.since,
    };
    if (entering) this.emit();
  }

  /** Marks the store healthy again. */
  ok(): void {
    if (this.current.state === 'ok') return;
    this.current = { state: 'ok', since: new Date().toISOString() };
    this.emit();
  }

  /** Calls `listener` on every change of state. */
  onChange(listener: (health: StoreHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs a statement: a success marks the store ok, a durable failure degraded. */
  async track<T>(operation: () => Promise<T>): Promise<T> {
    try {
      const result = await operation();
      this.ok();
      return result;
    } catch (error) {
      if (isDurableStoreError(error)) this.degraded(describeStoreError(error));
      throw error;
    }
  }

  private emit(): void {
    for (const listener of this.listeners) listener(this.get());
  }
}

/** A one-line description of a store failure for `/health` and logs (never holds parameters). */
export function describeStoreError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}
