import { statfsSync } from 'node:fs';

/**
 * PostgreSQL writes its log in 16 MiB segments and cannot commit when a new one does not fit;
 * PGlite then spins inside the failed commit instead of raising an error (see pglite-database.ts).
 */
export const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;

/**
 * Free space below which the embedded store refuses statements: two log segments, so a commit
 * never meets a full disk. Refusing early turns a full disk into a clear error.
 */
export const DISK_RESERVE_BYTES = 2 * WAL_SEGMENT_BYTES;

/** Bytes an unprivileged process may still write on the filesystem holding `path`; undefined when unknown. */
export function freeBytes(path: string): number | undefined {
  try {
    const stats = statfsSync(path);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

/** Mebibytes with one decimal, for messages. */
export const mebibytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
