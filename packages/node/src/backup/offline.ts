/**
 * Backup operations on a stopped node's data dir, and the checks that need no node at all:
 * verify (restore into a scratch in-memory store and compare), restore (into a fresh database,
 * swapped in only once complete) and create (when no node holds the database).
 */
import { existsSync, readFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openPgliteDatabase } from '../store/pglite-database.js';
import { openPostgresDatabase } from '../store/postgres-database.js';
import type { Database } from '../store/sql.js';
import type { BackupKind } from './archive.js';
import {
  archiveName,
  type BackupInfo,
  describeArchive,
  ensureBackupDir,
  writeArchiveFile,
} from './backup-files.js';
import { DEFAULT_BACKUP_SUBDIR } from './constants.js';
import { BackupCorruptError, NodeRunningError } from './errors.js';
import { findRunningNode } from './runtime-file.js';
import { createArchive, type OpenedArchive, openArchive, restoreFiles } from './snapshot.js';
import { dumpDatabase, type LoadReport, loadDatabase } from './table-dump.js';

/** Where a stopped node's data lives. */
export interface DataLocation {
  dataDir: string;
  /** PostgreSQL URL; unset means PGlite in `<dataDir>/db`. */
  databaseUrl?: string | undefined;
  meshKeyFile: string;
}

/** The result of `verify`. */
export interface VerifyReport {
  schemaVersion: number;
  encrypted: boolean;
  createdAt: string;
  tables: Array<{ name: string; rows: number; restoredRows: number; ok: boolean }>;
  files: string[];
}

/** Checks an archive end to end: checksums, decryption, a real load into a scratch store, and a re-dump compared table by table. */
export async function verifyArchive(archive: Uint8Array, passphrase?: string): Promise<VerifyReport> {
  const opened = openArchive(archive, passphrase);
  const scratch = await openPgliteDatabase(undefined);
  try {
    await loadDatabase(scratch, opened.dump, { upToArchiveVersionOnly: true });
    const again = await dumpDatabase(scratch);
    const restored = new Map(again.tables.map((t) => [t.name, t]));
    const tables = opened.dump.tables.map((table) => {
      const back = restored.get(table.name);
      return {
        name: table.name,
        rows: table.rows,
        restoredRows: back?.rows ?? 0,
        ok: back !== undefined && back.rows === table.rows && back.sha256 === table.sha256,
      };
    });
    const bad = tables.filter((t) => !t.ok);
    if (bad.length > 0) {
      throw new BackupCorruptError(
        `verify failed: ${bad.map((t) => `${t.name} (${t.rows} rows archived, ${t.restoredRows} restored)`).join(', ')} did not come back identical`,
      );
    }
    return {
      schemaVersion: opened.manifest.schemaVersion,
      encrypted: opened.manifest.encrypted,
      createdAt: opened.manifest.createdAt,
      tables,
      files: opened.files.map((f) => f.name),
    };
  } finally {
    await scratch.close();
  }
}

/** Refuses when a node runs on this data dir: its database must not be opened twice. */
export function assertNodeStopped(dataDir: string, action: string): void {
  const running = findRunningNode(dataDir);
  if (running !== undefined) {
    throw new NodeRunningError(
      `the node is running (pid ${running.pid}, ${running.url}); ${action} needs it stopped: ` +
        'stop it (systemctl stop allerac, or <prefix>/bin/allerac-service stop), run this again, then start it',
    );
  }
}

async function openExisting(location: DataLocation, dir = join(location.dataDir, 'db')): Promise<Database> {
  return location.databaseUrl !== undefined && location.databaseUrl !== ''
    ? openPostgresDatabase(location.databaseUrl, 2)
    : openPgliteDatabase(dir);
}

/** Takes a backup of a stopped node straight from its data dir. */
export async function createOfflineBackup(
  location: DataLocation,
  options: {
    dir?: string | undefined;
    file?: string | undefined;
    passphrase?: string | undefined;
    kind?: BackupKind;
  },
): Promise<BackupInfo> {
  assertNodeStopped(location.dataDir, 'a direct backup');
  const defaultDir = join(location.dataDir, DEFAULT_BACKUP_SUBDIR);
  const dir = options.dir ?? defaultDir;
  const kind = options.kind ?? 'manual';
  const file = options.file ?? join(dir, archiveName(`allerac-${kind}`));
  await ensureBackupDir(
    options.file !== undefined ? join(file, '..') : dir,
    dir === defaultDir && options.file === undefined,
  );
  const db = await openExisting(location);
  try {
    const { archive } = await createArchive(
      { sql: db, dataDir: location.dataDir, meshKeyFile: location.meshKeyFile },
      { passphrase: options.passphrase, kind },
    );
    await writeArchiveFile(file, archive);
  } finally {
    await db.close();
  }
  return describeArchive(file);
}

/** What a restore did. */
export interface RestoreReport extends LoadReport {
  /** The safety archive of the data that was replaced, if there was any. */
  safetyBackup: string | undefined;
  files: string[];
}

/**
 * Restores an archive into a stopped node's data dir. The current data is first saved as a
 * `pre-restore` archive. With PGlite the archive is loaded into a fresh database that replaces
 * the old one only once complete, so a failed restore leaves the node as it was.
 */
export async function restoreArchive(
  archive: Uint8Array,
  location: DataLocation,
  options: { passphrase?: string | undefined; opened?: OpenedArchive } = {},
): Promise<RestoreReport> {
  assertNodeStopped(location.dataDir, 'restore');
  const opened = options.opened ?? openArchive(archive, options.passphrase);
  const usesPglite = location.databaseUrl === undefined || location.databaseUrl === '';
  const dbDir = join(location.dataDir, 'db');
  let safetyBackup: string | undefined;
  if (!usesPglite || existsSync(join(dbDir, 'PG_VERSION'))) {
    const info = await createOfflineBackup(location, { kind: 'pre-restore' });
    safetyBackup = info.file;
  }
  let report: LoadReport;
  if (usesPglite) {
    const staging = `${dbDir}.restoring`;
    await rm(staging, { recursive: true, force: true });
    const db = await openPgliteDatabase(staging);
    try {
      report = await loadDatabase(db, opened.dump);
    } catch (error) {
      await db.close();
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
    await db.close();
    const replaced = `${dbDir}.replaced-${Date.now()}`;
    if (existsSync(dbDir)) await rename(dbDir, replaced);
    await rename(staging, dbDir);
    await rm(replaced, { recursive: true, force: true });
  } else {
    const db = await openExisting(location);
    try {
      report = await loadDatabase(db, opened.dump);
    } finally {
      await db.close();
    }
  }
  const files = await restoreFiles(
    opened.files,
    { dataDir: location.dataDir, meshKeyFile: location.meshKeyFile },
    opened.header.encrypted,
  );
  return { ...report, safetyBackup, files };
}

/** Reads an archive file. */
export function readArchiveFile(file: string): Buffer {
  return readFileSync(file);
}
