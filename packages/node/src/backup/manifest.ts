/**
 * The archive's table of contents (`manifest.json`), checked before it steers a restore. A
 * cleartext archive is not authenticated: anyone can write one with a valid checksum. So the
 * manifest may only name the files a backup takes (the admin token file, space documents), and
 * the mesh key only when the archive is encrypted. Identity and key files are never restored
 * from a cleartext archive.
 */
import { ADMIN_TOKEN_FILE } from '../auth/api-tokens.js';
import { BACKUP_FORMAT_VERSION, DATA_DIR_FILE_DIRS } from './constants.js';
import { BackupCorruptError, BackupFormatError } from './errors.js';

/** Where a file entry is restored to. */
export type FileTarget = 'data-dir' | 'mesh-key';

/** One table of the archive. */
export interface ManifestTable {
  name: string;
  entry: string;
  columns: string[];
  excluded: string[];
  rows: number;
  sha256: string;
}

/** One file of the archive. */
export interface ManifestFile {
  name: string;
  entry: string;
  target: FileTarget;
  bytes: number;
  sha256: string;
}

/** The archive's table of contents (entry `manifest.json`). */
export interface BackupManifest {
  format: number;
  createdAt: string;
  softwareVersion: string;
  schemaVersion: number;
  encrypted: boolean;
  tables: ManifestTable[];
  files: ManifestFile[];
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
const isSha256 = (value: unknown): value is string => isString(value) && /^[0-9a-f]{64}$/.test(value);

/** Whether a data-dir file of this name is one a backup takes: the token file, or under a file directory. */
export function isRestorableDataFile(name: string): boolean {
  const parts = name.split('/');
  if (
    name.startsWith('/') ||
    parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\\'))
  )
    return false;
  if (name === ADMIN_TOKEN_FILE) return true;
  return parts.length >= 2 && DATA_DIR_FILE_DIRS.includes(parts[0] as string);
}

/**
 * Parses and checks the manifest. `encrypted` is whether the archive really was (the header the
 * payload was read under), not what the manifest claims.
 */
export function parseManifest(bytes: Uint8Array, encrypted: boolean): BackupManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new BackupCorruptError('the archive manifest is not valid JSON');
  }
  const bad = (what: string): never => {
    throw new BackupFormatError(`the archive manifest is not one allerac writes: ${what}`);
  };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) bad('not an object');
  const manifest = parsed as Record<string, unknown>;
  if (manifest.format !== BACKUP_FORMAT_VERSION) {
    throw new BackupFormatError(
      `the manifest has format ${String(manifest.format)}; expected ${BACKUP_FORMAT_VERSION}`,
    );
  }
  if (!isCount(manifest.schemaVersion)) bad('schema version');
  if (!Array.isArray(manifest.tables) || !Array.isArray(manifest.files)) bad('no table or file list');
  const tables = (manifest.tables as unknown[]).map((value): ManifestTable => {
    const t = value as Record<string, unknown>;
    if (
      typeof t !== 'object' ||
      t === null ||
      !isString(t.name) ||
      !isString(t.entry) ||
      !isStrings(t.columns) ||
      !isStrings(t.excluded) ||
      !isCount(t.rows) ||
      !isSha256(t.sha256)
    )
      return bad('a table entry');
    return t as unknown as ManifestTable;
  });
  const files = (manifest.files as unknown[]).map((value): ManifestFile => {
    const f = value as Record<string, unknown>;
    if (
      typeof f !== 'object' ||
      f === null ||
      !isString(f.name) ||
      !isString(f.entry) ||
      !isCount(f.bytes) ||
      !isSha256(f.sha256) ||
      (f.target !== 'data-dir' && f.target !== 'mesh-key')
    )
      return bad('a file entry');
    if (f.target === 'mesh-key' && !encrypted) {
      throw new BackupFormatError(
        'this cleartext archive carries a mesh key, which allerac only puts in encrypted archives: ' +
          'it was altered or not made by allerac, and is refused',
      );
    }
    if (f.target === 'data-dir' && !isRestorableDataFile(f.name)) {
      throw new BackupFormatError(
        `the archive names a file a backup never holds (${f.name.slice(0, 80)}); ` +
          'it was altered or not made by allerac, and is refused',
      );
    }
    return f as unknown as ManifestFile;
  });
  return {
    format: BACKUP_FORMAT_VERSION,
    createdAt: isString(manifest.createdAt) ? manifest.createdAt : '',
    softwareVersion: isString(manifest.softwareVersion) ? manifest.softwareVersion : 'unknown',
    schemaVersion: manifest.schemaVersion as number,
    encrypted,
    tables,
    files,
  };
}
