import type { SettingKey } from '../store/settings-keys.js';

/** The archive format this code writes; readers refuse any other. */
export const BACKUP_FORMAT_VERSION = 1;

/** The first 8 bytes of every archive, so `file` and humans can recognise one. */
export const BACKUP_MAGIC = 'ALRCBAK\n';

/** File name suffix of archives; `list` and retention only look at these. */
export const BACKUP_EXTENSION = '.allerac-backup';

/** Length of the whole-archive SHA-256 trailer. */
export const TRAILER_BYTES = 32;

/**
 * scrypt cost: N=2^15, r=8 takes 32 MiB and ~0.1 s on a mini-PC, the cost OWASP suggests for
 * interactive use; a backup passphrase is typed rarely, so this is cheap for us and dear for a guesser.
 */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1, keyBytes: 32 } as const;

/**
 * The scrypt costs a reader accepts. The cleartext header names them and scrypt runs before the
 * tag can be checked, so a forged header could otherwise ask for gigabytes (128·N·r bytes). The
 * set leaves room to raise the cost later: at most 2^17 (128 MiB).
 */
export const ALLOWED_SCRYPT_PARAMS: ReadonlyArray<{ N: number; r: number; p: number }> = [
  { N: 2 ** 15, r: 8, p: 1 },
  { N: 2 ** 16, r: 8, p: 1 },
  { N: 2 ** 17, r: 8, p: 1 },
];

/** Salt and IV lengths this format writes; a header with others is not ours. */
export const SALT_BYTES = 16;
export const IV_BYTES = 12;

/**
 * The decompression budget: an archive may unpack to at most MAX_COMPRESSION_RATIO times its
 * compressed size (and never less than UNPACK_FLOOR_BYTES, nor more than MAX_UNPACKED_BYTES).
 * The node's rows compress five to ten times; a gzip bomb a thousand. The writer stores any
 * archive that would exceed the ratio without compression, so every archive it writes is read.
 */
export const MAX_COMPRESSION_RATIO = 64;
export const UNPACK_FLOOR_BYTES = 64 * 1024 * 1024;
/** Above what one process can hold as strings anyway (V8 strings stop near 512 MiB each). */
export const MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024;

/** pgvector's column types: their values are derived from text and re-embedded after restore. */
export const VECTOR_TYPES: readonly string[] = ['vector', 'halfvec', 'sparsevec'];

/**
 * Rows never dumped, as SQL conditions per table: secrets that must not reach an archive, even
 * one taken before the migration that removes them (the pre-migrate backup). `mesh.joinCode` is
 * the mesh key, which only an encrypted archive may carry, as its own file.
 */
export const DUMP_ROW_FILTERS: Readonly<Record<string, string>> = {
  settings: "key <> 'mesh.joinCode'",
};

/** Bookkeeping tables that are recorded as the schema version instead of being dumped. */
export const BOOKKEEPING_TABLES: readonly string[] = ['schema_migrations'];

/** Data-dir subdirectories copied into the archive as files, when they exist (space documents). */
export const DATA_DIR_FILE_DIRS: readonly string[] = ['spaces'];

/** Rows per INSERT when restoring: large enough to be quick, small enough to bound one statement. */
export const RESTORE_BATCH_ROWS = 250;

/** Settings keys used by backups (store/settings-keys.ts holds their types). */
export const BACKUP_SETTINGS = {
  schedule: 'backup.schedule',
  last: 'backup.last',
} as const satisfies Record<string, SettingKey>;

/** Where archives go when no directory is given: `<dataDir>/backups`. */
export const DEFAULT_BACKUP_SUBDIR = 'backups';

/** The environment variable the CLI reads a passphrase from when no file is given. */
export const PASSPHRASE_ENV = 'ALLERAC_BACKUP_PASSPHRASE';
