import { UnavailableError } from '../errors.js';
import type { StoreHealth } from './store-health.js';

/** The narrow SQL surface every store implementation provides; repositories are written against it. */
export interface SqlClient {
  /** Runs one parameterised statement ($1, $2, ...) and returns its rows. */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs several statements separated by semicolons, without parameters (used by migrations). */
  exec(text: string): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
}

/** The statements available inside a transaction. */
export interface SqlTransaction {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  exec(text: string): Promise<void>;
}

/** Which implementation backs a store. */
export type StoreKind = 'pglite' | 'postgres';

/** A database connection the node owns: SQL plus lifecycle. */
export interface Database extends SqlClient {
  readonly kind: StoreKind;
  /** Where the data lives: a directory for PGlite, a redacted URL for PostgreSQL. */
  readonly location: string;
  /** Whether the store serves; `degraded` after a durable failure until it recovers by itself. */
  health(): StoreHealth;
  /** Calls `listener` whenever the health changes; returns the unsubscribe function. */
  onHealthChange(listener: (health: StoreHealth) => void): () => void;
  /** Closes the connection; calling it twice is safe. */
  close(): Promise<void>;
}

/** What a client is told to wait before retrying a request the store could not serve. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * Thrown when the database cannot be opened, or cannot serve now (a full disk, a lost server);
 * the message says what to check. The store recovers by itself, so a request may be retried (503).
 */
export class StoreUnavailableError extends UnavailableError {
  override name = 'StoreUnavailableError';
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, STORE_RETRY_AFTER_SECONDS, options);
  }
}
