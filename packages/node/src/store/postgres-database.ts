import pg from 'pg';
import { type Database, type SqlTransaction, StoreUnavailableError } from './sql.js';

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
  const wrap = (q: Pick<pg.Pool | pg.PoolClient, 'query'>): SqlTransaction => ({
    async query<Row>(text: string, params: readonly unknown[] = []) {
      const result = await q.query(text, params as unknown[]);
      return result.rows as Row[];
    },
    async exec(text: string) {
      await q.query(text);
    },
  });
  const self = wrap(pool);
  return {
    kind: 'postgres',
    location: redactDatabaseUrl(url),
    query: self.query,
    exec: self.exec,
    async transaction(fn) {
      const client = await pool.connect();
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
