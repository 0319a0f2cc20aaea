/** Archive files on disk: the target directory check, atomic writes, listing and retention. */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type ArchiveHeader, type BackupKind, readArchiveHeader } from './archive.js';
import { BACKUP_EXTENSION } from './constants.js';
import { BackupError, BackupTargetError } from './errors.js';

/** An archive on disk, described from its cleartext header. */
export interface BackupInfo {
  file: string;
  name: string;
  bytes: number;
  kind: BackupKind;
  createdAt: string;
  encrypted: boolean;
  schemaVersion: number;
  softwareVersion: string;
  /** False when the archive fails its checksum; `error` says why. */
  intact: boolean;
  error?: string;
}

/**
 * Checks that `dir` is a writable directory. The default directory is created; a directory the
 * user names is not, because a missing one is usually an unmounted USB drive, and writing into
 * the empty mount point would fill the system disk instead.
 */
export async function ensureBackupDir(dir: string, create: boolean): Promise<void> {
  if (!existsSync(dir)) {
    if (!create) {
      throw new BackupTargetError(
        `the backup directory ${dir} does not exist; if it is on a USB drive, check that the drive is mounted, or create the directory`,
      );
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
  if (!statSync(dir).isDirectory())
    throw new BackupTargetError(`the backup target ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new BackupTargetError(
      `the backup directory ${dir} is not writable by this user; check its permissions (or that the drive is not mounted read-only)`,
    );
  }
}

/** A file name that sorts by time: `<prefix>-<20240101T030000.000Z>.allerac-backup` (milliseconds, so two in one second differ). */
export function archiveName(prefix: string, at = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '');
  return `${prefix}-${stamp}${BACKUP_EXTENSION}`;
}

/** Writes an archive atomically (temp file, then rename) with mode 0600; a full disk leaves no half file. */
export async function writeArchiveFile(file: string, archive: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, archive, { mode: 0o600 });
    await rename(tmp, file);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new BackupTargetError(`cannot write ${file}: ${(cause as Error).message}`, { cause });
  }
}

/** Describes one archive file without its passphrase. */
export function describeArchive(file: string): BackupInfo {
  const bytes = readFileSync(file);
  const base = { file, name: basename(file), bytes: bytes.length };
  try {
    const { header } = readArchiveHeader(bytes);
    return { ...base, ...pickHeader(header), intact: true };
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    return {
      ...base,
      kind: 'manual',
      createdAt: statSync(file).mtime.toISOString(),
      encrypted: false,
      schemaVersion: 0,
      softwareVersion: 'unknown',
      intact: false,
      error: error.message,
    };
  }
}

function pickHeader(header: ArchiveHeader) {
  return {
    kind: header.kind,
    createdAt: header.createdAt,
    encrypted: header.encrypted,
    schemaVersion: header.schemaVersion,
    softwareVersion: header.softwareVersion,
  };
}

/** The archives in `dir`, newest first; an absent directory has none. */
export function listArchives(dir: string): BackupInfo[] {
  // A path that is not a directory (a file, say) holds no archives, as one that does not exist.
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(BACKUP_EXTENSION))
    .map((name) => describeArchive(join(dir, name)))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.name.localeCompare(a.name));
}

/** Deletes all but the newest `keep` archives of one kind in `dir`; returns the deleted files. */
export async function pruneArchives(dir: string, kind: BackupKind, keep: number): Promise<string[]> {
  const victims = listArchives(dir)
    .filter((info) => info.kind === kind && info.intact)
    .slice(Math.max(0, keep));
  for (const victim of victims) await rm(victim.file, { force: true });
  return victims.map((v) => v.file);
}
