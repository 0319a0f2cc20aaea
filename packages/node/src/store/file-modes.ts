/**
 * The data dir holds the mesh key, the node's identity and every conversation: it is readable by
 * its owner only. PGlite creates its files 0666 whatever the umask, so modes are tightened after
 * it opens a cluster, and the daemon sets a 077 umask for everything else it writes.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Directories of the data dir: owner only. */
export const PRIVATE_DIR_MODE = 0o700;

/** Files of the data dir: owner read and write only. */
export const PRIVATE_FILE_MODE = 0o600;

/** The umask the node runs with, so every file it creates is private from the start. */
export const PRIVATE_UMASK = 0o077;

/** Creates `dir` if needed and makes it and everything under it owner-only; symlinks are left alone. */
export function restrictTree(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const walk = (path: string, depth: number) => {
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(path);
    } catch {
      return; // removed while walking (PGlite's temporary files)
    }
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      if ((stat.mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(path, PRIVATE_DIR_MODE);
      if (depth > 16) return;
      for (const name of readdirSync(path)) walk(join(path, name), depth + 1);
    } else if (stat.isFile() && (stat.mode & 0o777 & ~PRIVATE_FILE_MODE) !== 0) {
      chmodSync(path, stat.mode & PRIVATE_FILE_MODE);
    }
  };
  walk(dir, 0);
}

/** Subdirectories of the data dir that hold only the node's own files (walked in full). */
const OWN_SUBDIRS = /^(db|db\..+|backups|spaces)$/;

/**
 * Makes the data dir owner-only: the directory, its files, and the node's own subdirectories in
 * full. Other subdirectories are left as they are: a data dir pointed at a shared place must not
 * have unrelated trees changed under it.
 */
export function restrictDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dataDir, PRIVATE_DIR_MODE);
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name);
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    if (stat.isDirectory() && OWN_SUBDIRS.test(name)) restrictTree(path);
    else if (stat.isFile() && (stat.mode & 0o777 & ~PRIVATE_FILE_MODE) !== 0)
      chmodSync(path, stat.mode & PRIVATE_FILE_MODE);
  }
}
