import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { type Database, type SqlTransaction, StoreUnavailableError } from './sql.js';

/**
 * PostgreSQL settings for a small appliance: the default shared buffers would hold hundreds of MB
 * of WASM memory on a mini-PC; the OS page cache serves the rest.
 */
export const PGLITE_CONFIG = ['shared_buffers=16MB'];

/**
 * A pristine cluster made at build time (`npm run build`) by this same PGlite version. A new node
 * copies it instead of running initdb: a file copy takes milliseconds where initdb takes seconds.
 */
export const CLUSTER_TEMPLATE_DIR = fileURLToPath(new URL('../../cluster-template', import.meta.url));

/**
 * Creates the database cluster (initdb) in a short-lived child process. initdb's WASM memory
 * would otherwise stay in the node's resident set for its whole life.
 */
export async function initializeCluster(dir: string): Promise<void> {
  const script = `
    const { PGlite } = await import(${JSON.stringify(import.meta.resolve('@electric-sql/pglite'))});
    const { vector } = await import(${JSON.stringify(import.meta.resolve('@electric-sql/pglite-pgvector'))});
    const db = await PGlite.create({ dataDir: process.argv[1], extensions: { vector }, postgresqlconf: ${JSON.stringify(PGLITE_CONFIG)} });
    await db.close();`;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, dir], {
    timeout: 120_000,
  });
}

/** Opens embedded PGlite (with pgvector) in `dir`, or in memory when `dir` is undefined. */
export async function openPgliteDatabase(dir: string | undefined): Promise<Database & { pglite: PGlite }> {
  let db: PGlite;
  try {
    if (dir !== undefined) {
      mkdirSync(dir, { recursive: true });
      if (!existsSync(join(dir, 'PG_VERSION'))) {
        if (existsSync(join(CLUSTER_TEMPLATE_DIR, 'PG_VERSION')))
          cpSync(CLUSTER_TEMPLATE_DIR, dir, { recursive: true });
        else await initializeCluster(dir);
      }
    }
    db = await PGlite.create({ dataDir: dir, extensions: { vector }, postgresqlconf: PGLITE_CONFIG });
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
