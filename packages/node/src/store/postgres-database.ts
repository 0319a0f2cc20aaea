import pg from 'pg';
import { type Database, type SqlTransaction, StoreUnavailableError } from './sql.js';
import { StoreHealthTracker } from './store-health.js';

/** Hides the password of a connection URL so it can be logged and shown. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** Connects to PostgreSQL with pgvector through a `pg` pool. */
export async function openPostgresDatabase(url: string, poolSize = 10): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Fail fast with a clear message when the server is unreachable or lacks pgvector. Vectors cross
  // the driver as text literals ('[1,2,3]'), so no type parser needs registering.
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
  } catch (cause) {
    await pool.end().catch(() => {});
    throw new StoreUnavailableError(
      `cannot connect to PostgreSQL at ${redactDatabaseUrl(url)}: ${(cause as Error).message}; ` +
        'check DATABASE_URL and that the server has the pgvector extension',
      { cause },
    );
  }
  let closed = false;
  // The pool reconnects by itself, so a durable failure (a full disk on the server, a lost
  // connection) only needs reporting until a statement succeeds again.
  const tracker = new StoreHealthTracker();
  const wrap = (q: Pick<pg.Pool | pg.PoolClient, 'query'>): SqlTransaction => ({
    query: <Row>(text: string, params: readonly unknown[] = []) =>
      tracker.track(async () => (await q.query(text, params as unknown[])).rows as Row[]),
    exec: (text: string) => tracker.track(async () => void (await q.query(text))),
  });
  const self = wrap(pool);
  return {
    kind: 'postgres',
    location: redactDatabaseUrl(url),
    query: self.query,
    exec: self.exec,
    health: () => tracker.get(),
    onHealthChange: (listener) => tracker.onChange(listener),
    async transaction(fn) {
      const client = await tracker.track(() => pool.connect());
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
