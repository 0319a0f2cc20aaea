/**
 * Where a running node may write (and list) archives: `<data-dir>/backups` and the directories
 * named by --backup-dirs. The management API is reachable by any admin, so without this an admin
 * token could write archives, or the schedule's, over any path the service user can reach.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { BackupTargetError } from './errors.js';

/** The target lies outside the directories the node may write archives into. */
export class BackupTargetNotAllowedError extends BackupTargetError {
  override name = 'BackupTargetNotAllowedError';
}

/** Follows symlinks where the path exists, so a link cannot lead out of an allowed directory. */
const real = (path: string): string => (existsSync(path) ? realpathSync(path) : resolve(path));

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** The allowed backup directories of one node. */
export class BackupTargets {
  private readonly roots: string[];

  constructor(defaultDir: string, configured: readonly string[]) {
    this.roots = [resolve(defaultDir), ...configured.map((dir) => resolve(dir))];
  }

  /** The directories as configured, for messages and the status. */
  get allowed(): string[] {
    return [...this.roots];
  }

  /** Throws BackupTargetNotAllowedError unless `dir` is an allowed directory or lies inside one. */
  check(dir: string): void {
    const target = real(dir);
    if (this.roots.some((root) => inside(real(root), target))) return;
    throw new BackupTargetNotAllowedError(
      `${resolve(dir)} is outside the directories this node writes backups to (${this.roots.join(', ')}); ` +
        'start the node with --backup-dirs (or ALLERAC_BACKUP_DIRS) naming it to allow it',
    );
  }
}
