/**
 * What goes into an archive and how it comes out: the manifest, one entry per table, and the
 * data-dir files (admin tokens, space documents, and the mesh key only when encrypted).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../auth/api-tokens.js';
import type { SqlClient } from '../store/sql.js';
import { SOFTWARE_VERSION } from '../version.js';
import {
  type ArchiveEntry,
  type ArchiveHeader,
  type BackupKind,
  decodeArchive,
  encodeArchive,
  sha256Hex,
} from './archive.js';
import { BACKUP_FORMAT_VERSION, DATA_DIR_FILE_DIRS } from './constants.js';
import { BackupCorruptError, BackupFormatError } from './errors.js';
import { type BackupManifest, type FileTarget, isRestorableDataFile, parseManifest } from './manifest.js';
import { type DatabaseDump, dumpDatabase } from './table-dump.js';

/** What a backup reads: the database and the node's files. */
export interface BackupSources {
  sql: SqlClient;
  dataDir: string;
  /** The mesh key file; included only in encrypted archives. */
  meshKeyFile?: string | undefined;
}

/** An archive opened and checked entry by entry. */
export interface OpenedArchive {
  header: ArchiveHeader;
  manifest: BackupManifest;
  dump: DatabaseDump;
  files: Array<{ name: string; target: FileTarget; data: Uint8Array }>;
}

const TABLE_PREFIX = 'tables/';
const FILE_PREFIX = 'files/';

function collectFiles(dataDir: string, meshKeyFile: string | undefined, encrypted: boolean) {
  const files: Array<{ name: string; target: FileTarget; data: Uint8Array }> = [];
  const tokenFile = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(tokenFile))
    files.push({ name: ADMIN_TOKEN_FILE, target: 'data-dir', data: readFileSync(tokenFile) });
  for (const dir of DATA_DIR_FILE_DIRS) {
    const root = join(dataDir, dir);
    if (!existsSync(root)) continue;
    const walk = (at: string, depth: number) => {
      if (depth > 8) return;
      for (const name of readdirSync(at).sort()) {
        const path = join(at, name);
        const stat = statSync(path);
        if (stat.isDirectory()) walk(path, depth + 1);
        else if (stat.isFile()) {
          files.push({
            name: relative(dataDir, path).split(sep).join('/'),
            target: 'data-dir',
            data: readFileSync(path),
          });
        }
      }
    };
    walk(root, 0);
  }
  // The mesh key admits a device to the home mesh, so it never sits in a cleartext archive.
  if (encrypted && meshKeyFile !== undefined && existsSync(meshKeyFile)) {
    files.push({ name: 'mesh.key', target: 'mesh-key', data: readFileSync(meshKeyFile) });
  }
  return files;
}

/** Takes a snapshot of the database and files and encodes it as an archive. */
export async function createArchive(
  sources: BackupSources,
  options: { passphrase?: string | undefined; kind: BackupKind },
): Promise<{ archive: Buffer; manifest: BackupManifest }> {
  const encrypted = options.passphrase !== undefined;
  const dump = await dumpDatabase(sources.sql);
  const files = collectFiles(sources.dataDir, sources.meshKeyFile, encrypted);
  const createdAt = new Date().toISOString();
  const entries: ArchiveEntry[] = [];
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT_VERSION,
    createdAt,
    softwareVersion: SOFTWARE_VERSION,
    schemaVersion: dump.schemaVersion,
    encrypted,
    tables: [],
    files: [],
  };
  for (const table of dump.tables) {
    const entry = `${TABLE_PREFIX}${table.name}.jsonl`;
    entries.push({ name: entry, data: Buffer.from(table.jsonl, 'utf8') });
    manifest.tables.push({
      name: table.name,
      entry,
      columns: table.columns,
      excluded: table.excluded,
      rows: table.rows,
      sha256: table.sha256,
    });
  }
  for (const file of files) {
    const entry = `${FILE_PREFIX}${file.name}`;
    entries.push({ name: entry, data: file.data });
    manifest.files.push({
      name: file.name,
      entry,
      target: file.target,
      bytes: file.data.length,
      sha256: sha256Hex(file.data),
    });
  }
  entries.unshift({ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest, null, 2), 'utf8') });
  const archive = encodeArchive(
    { kind: options.kind, createdAt, softwareVersion: SOFTWARE_VERSION, schemaVersion: dump.schemaVersion },
    entries,
    options.passphrase,
  );
  return { archive, manifest };
}

/** Decodes an archive and checks every entry against the manifest's SHA-256. */
export function openArchive(archive: Uint8Array, passphrase?: string): OpenedArchive {
  const { header, entries } = decodeArchive(archive, passphrase);
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  const manifestBytes = byName.get('manifest.json');
  if (manifestBytes === undefined) throw new BackupCorruptError('the archive has no manifest.json');
  const manifest = parseManifest(manifestBytes, header.encrypted);
  const entry = (name: string, sha256: string): Uint8Array => {
    const data = byName.get(name);
    if (data === undefined) throw new BackupCorruptError(`the archive lacks the entry ${name}`);
    if (sha256Hex(data) !== sha256)
      throw new BackupCorruptError(`the entry ${name} does not match its checksum`);
    return data;
  };
  const dump: DatabaseDump = {
    schemaVersion: manifest.schemaVersion,
    tables: manifest.tables.map((t) => ({
      name: t.name,
      columns: t.columns,
      excluded: t.excluded,
      rows: t.rows,
      sha256: t.sha256,
      jsonl: Buffer.from(entry(t.entry, t.sha256)).toString('utf8'),
    })),
  };
  const files = manifest.files.map((f) => ({
    name: f.name,
    target: f.target,
    data: entry(f.entry, f.sha256),
  }));
  return { header, manifest, dump, files };
}

/**
 * Writes an archive's files back: into the data dir, and the mesh key to its file (mode 0600).
 * Checked again here, whoever opened the archive: never a key from a cleartext archive, never a
 * file a backup does not take (the node's identity, its runtime files, the database).
 */
export async function restoreFiles(
  files: OpenedArchive['files'],
  destination: { dataDir: string; meshKeyFile: string },
  encrypted: boolean,
): Promise<string[]> {
  for (const file of files) {
    if (file.target === 'mesh-key' ? !encrypted : !isRestorableDataFile(file.name))
      throw new BackupFormatError(`refusing to restore ${file.name} from this archive`);
  }
  const written: string[] = [];
  for (const file of files) {
    const path =
      file.target === 'mesh-key'
        ? destination.meshKeyFile
        : join(destination.dataDir, ...file.name.split('/'));
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.restore-tmp`;
    await writeFile(tmp, file.data, { mode: 0o600 });
    await rename(tmp, path);
    await chmod(path, 0o600);
    written.push(path);
  }
  return written;
}
