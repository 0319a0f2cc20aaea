import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { type Database, type SqlTransaction, StoreUnavailableError } from './sql.js';

/** Opens embedded PGlite (with pgvector) in `dir`, or in memory when `dir` is undefined. */
export async function openPgliteDatabase(dir: string | undefined): Promise<Database & { pglite: PGlite }> {
  if (dir !== undefined) mkdirSync(dir, { recursive: true });
  let db: PGlite;
  try {
    db = await PGlite.create({ dataDir: dir, extensions: { vector } });
  } catch (cause) {
    throw new StoreUnavailableError(
      `cannot open the embedded database in ${dir ?? 'memory'}: ${(cause as Error).message}; ` +
        'check that the data dir is writable and not used by another allerac process',
      { cause },
    );
  }
  let closed = false;
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): SqlTransaction => ({
    async query<Row>(text: string, params: readonly unknown[] = []) {
      const result = await q.query<Row>(text, params as unknown[]);
      return result.rows;
    },
    async exec(text: string) {
      await q.exec(text);
    },
  });
  const self = wrap(db);
  return {
    kind: 'pglite',
    location: dir ?? 'memory://',
    pglite: db,
    query: self.query,
    exec: self.exec,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
