import { MIGRATIONS, type Migration } from './migrations.js';
import type { SqlClient } from './sql.js';

/** Thrown when the database holds a newer schema than this software knows (a downgrade). */
export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

/** Applies every migration not yet recorded; returns the versions applied now. Safe to run twice. */
export async function migrate(
  sql: SqlClient,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await sql.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const done = await sql.transaction(async (tx) => {
      // Serialise concurrent starters that share one PostgreSQL database.
      await tx.query('SELECT pg_advisory_xact_lock(4242)');
      const rows = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (rows.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  const [latest] = await sql.query<{ version: number }>(
    'SELECT max(version)::int AS version FROM schema_migrations',
  );
  if ((latest?.version ?? 0) > known) {
    throw new SchemaTooNewError(
      `the database is at schema version ${latest?.version}, newer than this allerac (${known}); ` +
        'run the newer version or restore a backup taken before the upgrade',
    );
  }
  return applied;
}

/** The schema version currently recorded in the database. */
export async function schemaVersion(sql: SqlClient): Promise<number> {
  const [row] = await sql.query<{ version: number | null }>(
    'SELECT max(version)::int AS version FROM schema_migrations',
  );
  return row?.version ?? 0;
}
