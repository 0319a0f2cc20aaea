/**
 * The automatic backup before a schema change: when a database that already holds data has
 * migrations pending, it is archived to `<dataDir>/backups/pre-migrate-<version>-<time>` first,
 * so a failed update can be rolled back to the data as it was.
 */
import { join } from 'node:path';
import { schemaVersion } from '../store/migrate.js';
import { MIGRATIONS } from '../store/migrations.js';
import type { SqlClient } from '../store/sql.js';
import { archiveName, ensureBackupDir, writeArchiveFile } from './backup-files.js';
import { DEFAULT_BACKUP_SUBDIR } from './constants.js';
import { createArchive } from './snapshot.js';
import { hasSchema } from './table-dump.js';

/** Prefix of pre-migration archives; the updater looks for these to undo a schema change. */
export const PRE_MIGRATE_PREFIX = 'pre-migrate-';

/**
 * The store's `beforeMigrate` hook for a data dir: whoever opens a node's store (the node, the
 * offline CLI) backs it up before a schema change.
 */
export function preMigrateBackup(dataDir: string): (sql: SqlClient) => Promise<string | undefined> {
  return (sql) => backupBeforeMigrate(sql, dataDir);
}

/** Takes the pre-migration archive when one is needed; returns its file, or undefined when nothing is pending. */
export async function backupBeforeMigrate(
  sql: SqlClient,
  dataDir: string,
  migrations: readonly { version: number }[] = MIGRATIONS,
): Promise<string | undefined> {
  if (!(await hasSchema(sql))) return undefined;
  const applied = new Set(
    (await sql.query<{ version: number }>('SELECT version::int AS version FROM schema_migrations')).map(
      (r) => r.version,
    ),
  );
  if (migrations.every((m) => applied.has(m.version))) return undefined;
  const target = Math.max(await schemaVersion(sql), ...migrations.map((m) => m.version));
  const dir = join(dataDir, DEFAULT_BACKUP_SUBDIR);
  await ensureBackupDir(dir, true);
  const file = join(dir, archiveName(`${PRE_MIGRATE_PREFIX}${target}`));
  // No passphrase is available at start-up, so this archive holds no mesh key (as any cleartext one).
  const { archive } = await createArchive({ sql, dataDir }, { kind: 'pre-migrate' });
  await writeArchiveFile(file, archive);
  return file;
}
