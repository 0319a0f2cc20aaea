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

/** pgvector's column types: their values are derived from text and re-embedded after restore. */
export const VECTOR_TYPES: readonly string[] = ['vector', 'halfvec', 'sparsevec'];

/** Bookkeeping tables that are recorded as the schema version instead of being dumped. */
export const BOOKKEEPING_TABLES: readonly string[] = ['schema_migrations'];

/** Data-dir subdirectories copied into the archive as files, when they exist (space documents). */
export const DATA_DIR_FILE_DIRS: readonly string[] = ['spaces'];

/** Rows per INSERT when restoring: large enough to be quick, small enough to bound one statement. */
export const RESTORE_BATCH_ROWS = 250;

/** Settings keys used by backups. */
export const BACKUP_SETTINGS = {
  schedule: 'backup.schedule',
  last: 'backup.last',
} as const;

/** Where archives go when no directory is given: `<dataDir>/backups`. */
export const DEFAULT_BACKUP_SUBDIR = 'backups';

/** The environment variable the CLI reads a passphrase from when no file is given. */
export const PASSPHRASE_ENV = 'ALLERAC_BACKUP_PASSPHRASE';
