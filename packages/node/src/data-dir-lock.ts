/**
 * One node per data dir: `<dataDir>/node.lock`, created with O_EXCL, names the process that holds
 * the dir. Two nodes on one dir would share a peer id and write one embedded database at once.
 * A lock whose process is gone (killed, a power cut) is taken over at once; on Linux the boot id
 * and the process's start time tell a reused pid from the holder, so a reboot never leaves a
 * node locked out of its own dir.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { findRunningNode } from './backup/runtime-file.js';
import { ConflictError } from './errors.js';

/** The lock file's name inside the data dir. */
export const DATA_DIR_LOCK_FILE = 'node.lock';

/** What the lock file records about its holder. */
export interface DataDirLockOwner {
  pid: number;
  /** Linux's boot id: a lock from before a reboot is stale whatever its pid. */
  bootId?: string | undefined;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat): tells a reused pid. */
  startTicks?: string | undefined;
  /** What holds it: `allerac start`, or a CLI command working on a stopped node's store. */
  purpose: string;
  since: string;
}

/** Another live process holds the data dir. */
export class DataDirLockedError extends ConflictError {
  override name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly owner: DataDirLockOwner,
    /** The holder's HTTP URL, from its runtime file, when it is a running node. */
    readonly url: string | undefined,
  ) {
    super(
      `the data dir ${dataDir} is in use by another ${owner.purpose === 'node' ? 'node' : `process (${owner.purpose})`}: pid ${owner.pid}${url === undefined ? '' : `, ${url}`}. Stop it first, or start this one with another --data-dir`,
      { code: 'data_dir_locked' },
    );
  }
}

/** A held lock; release() is idempotent and removes the file only while it is still this holder's. */
export interface DataDirLock {
  readonly file: string;
  release(): void;
}

// Within one process (tests, benchmarks) the pid cannot tell two holders apart: file → content.
const heldHere = new Map<string, string>();
let exitHookInstalled = false;

/**
 * Takes the data dir's lock for this process, or throws DataDirLockedError naming the live
 * holder. `purpose` is shown to whoever is refused.
 */
export function acquireDataDirLock(dataDir: string, purpose = 'node'): DataDirLock {
  const file = join(dataDir, DATA_DIR_LOCK_FILE);
  if (heldHere.has(file)) throw new DataDirLockedError(dataDir, selfOwner(purpose), urlOf(dataDir));
  const me = selfOwner(purpose);
  const content = `${JSON.stringify(me)}\n`;
  // A few rounds: each either creates the file or clears one stale holder (or a racing taker's leftovers).
  for (let round = 0; round < 5; round += 1) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      heldHere.set(file, content);
      return lockHandle(file, content);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const seen = readText(file);
    if (seen === undefined) continue;
    const owner = parseOwner(seen);
    if (owner !== undefined && isAlive(owner)) throw new DataDirLockedError(dataDir, owner, urlOf(dataDir));
    takeOver(file, seen);
  }
  const owner = parseOwner(readText(file) ?? '');
  throw new DataDirLockedError(dataDir, owner ?? { pid: 0, purpose, since: '' }, urlOf(dataDir));
}

function lockHandle(file: string, content: string): DataDirLock {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A process that exits without stopping its node (a second Ctrl-C) still frees its dirs.
    process.on('exit', () => {
      for (const [held, text] of heldHere) removeIfOurs(held, text);
    });
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      heldHere.delete(file);
      removeIfOurs(file, content);
    },
  };
}

function removeIfOurs(file: string, content: string): void {
  if (readText(file) === content) rmSync(file, { force: true });
}

/**
 * Removes a stale lock, unless someone replaced it meanwhile: the file is moved aside first and
 * put back when what was moved is no longer the stale holder's (another taker won the race).
 */
function takeOver(file: string, stale: string): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch {
    return;
  }
  if (readText(aside) !== stale) {
    try {
      linkSync(aside, file);
    } catch {
      // A third process created a lock meanwhile: it holds the dir, and the next round sees it.
    }
  }
  rmSync(aside, { force: true });
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parseOwner(text: string): DataDirLockOwner | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<DataDirLockOwner>;
    return typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0
      ? {
          pid: parsed.pid,
          bootId: typeof parsed.bootId === 'string' ? parsed.bootId : undefined,
          startTicks: typeof parsed.startTicks === 'string' ? parsed.startTicks : undefined,
          purpose: typeof parsed.purpose === 'string' ? parsed.purpose : 'node',
          since: typeof parsed.since === 'string' ? parsed.since : '',
        }
      : undefined;
  } catch {
    // Empty or torn: its writer died between create and write; nobody holds it.
    return undefined;
  }
}

function isAlive(owner: DataDirLockOwner): boolean {
  // Our own pid in a file we do not hold: a restarted container's pid 1, or a reused pid.
  if (owner.pid === process.pid) return false;
  const bootId = readBootId();
  if (owner.bootId !== undefined && bootId !== undefined && owner.bootId !== bootId) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: alive, but another user's process (the service user).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const ticks = startTicksOf(owner.pid);
  return owner.startTicks === undefined || ticks === undefined || ticks === owner.startTicks;
}

function selfOwner(purpose: string): DataDirLockOwner {
  return {
    pid: process.pid,
    bootId: readBootId(),
    startTicks: startTicksOf(process.pid),
    purpose,
    since: new Date().toISOString(),
  };
}

function readBootId(): string | undefined {
  return readText('/proc/sys/kernel/random/boot_id')?.trim() || undefined;
}

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so count from its `)`. */
function startTicksOf(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function urlOf(dataDir: string): string | undefined {
  return findRunningNode(dataDir)?.url;
}
