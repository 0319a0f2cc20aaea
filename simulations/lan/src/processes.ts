/**
 * Processes the harness starts inside host namespaces, tracked in a pidfile so a later run can
 * remove what a crashed run left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { NODE_CLI, PIDFILE, SIM_CLI } from './constants.js';
import { LanBusyError } from './errors.js';

/** A process running in a host namespace. */
export interface HostProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code or signal once the process is gone. */
  readonly exited: Promise<number | string>;
  /** Whether it has exited. */
  isRunning(): boolean;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` is one of ours: a node or ollama-sim process (pids get reused after a crash). */
function isOurs(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(NODE_CLI) || cmdline.includes(SIM_CLI);
  } catch {
    return false;
  }
}

/** Claims the pidfile for this process; throws LanBusyError when another live harness holds it. */
export function claimPidfile(): void {
  if (existsSync(PIDFILE)) {
    const owner = Number(readFileSync(PIDFILE, 'utf8').split('\n')[0]);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      const cmdline = readFileSync(`/proc/${owner}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (/lan|vitest|tsx/.test(cmdline)) {
        throw new LanBusyError(
          `another LAN simulation is running (pid ${owner}); stop it first, one LAN per machine at a time`,
        );
      }
    }
  }
  mkdirSync(dirname(PIDFILE), { recursive: true });
  writeFileSync(PIDFILE, `${process.pid}\n`);
}

/** Kills (SIGKILL) every process listed in the pidfile that is still ours; returns their pids. */
export function killLeftoverProcesses(): number[] {
  if (!existsSync(PIDFILE)) return [];
  const [, ...pids] = readFileSync(PIDFILE, 'utf8')
    .split('\n')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const killed: number[] = [];
  for (const pid of pids) {
    if (pid !== process.pid && isAlive(pid) && isOurs(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      } catch {
        // exited meanwhile
      }
    }
  }
  return killed;
}

/**
 * Starts `process.execPath script args` in a namespace. `ip netns exec` execs the command in
 * place, so the child's pid is the program's own pid and SIGKILL reaches it directly.
 */
export function spawnInNamespace(
  netns: string,
  script: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): HostProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, script, ...args], {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  const pid = child.pid ?? -1;
  if (pid > 0) appendFileSync(PIDFILE, `${pid}\n`);
  let running = pid > 0;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      running = false;
      resolve(error.message);
    });
  });
  return { child, pid, exited, isRunning: () => running };
}

/** Stops a process: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(proc: HostProcess, graceMs = 5_000): Promise<void> {
  if (!proc.isRunning()) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}
