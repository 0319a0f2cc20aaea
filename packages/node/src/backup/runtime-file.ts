/**
 * `<dataDir>/node.json`: written by a running node (pid and URL) so the CLI knows to ask it over
 * the management API instead of opening the database the node holds.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The runtime file's name inside the data dir. */
export const RUNTIME_FILE = 'node.json';

/** What a running node announces. */
export interface RuntimeInfo {
  pid: number;
  url: string;
  version: string;
  startedAt: string;
}

/** Records that this process serves the data dir. */
export function writeRuntimeFile(dataDir: string, info: RuntimeInfo): void {
  writeFileSync(join(dataDir, RUNTIME_FILE), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** Removes the record, only if it is this process's own. */
export function removeRuntimeFile(dataDir: string, pid = process.pid): void {
  const current = readRuntimeFile(dataDir);
  if (current?.pid === pid) rmSync(join(dataDir, RUNTIME_FILE), { force: true });
}

function readRuntimeFile(dataDir: string): RuntimeInfo | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, RUNTIME_FILE), 'utf8')) as RuntimeInfo;
    return typeof parsed.pid === 'number' && typeof parsed.url === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The node serving this data dir, if its process is alive; a stale file (crash) is ignored. */
export function findRunningNode(dataDir: string): RuntimeInfo | undefined {
  const info = readRuntimeFile(dataDir);
  if (info === undefined) return undefined;
  try {
    process.kill(info.pid, 0);
    return info;
  } catch (error) {
    // EPERM: alive but another user's process (the service user); still running.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? info : undefined;
  }
}
