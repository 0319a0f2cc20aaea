import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LanCommandError, LanPrerequisiteError } from './errors.js';

/** Runs a command synchronously; throws LanCommandError with its stderr. Setup is sequential anyway, and teardown must work in an 'exit' handler, where only synchronous calls run. */
export function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 20_000,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? '';
    throw new LanCommandError(`${command} ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

/** Runs `ip ARGS`. */
export function ip(...args: string[]): string {
  return run('ip', args);
}

/** Runs `tc ARGS`. */
export function tc(...args: string[]): string {
  return run('tc', args);
}

/** Runs a command and ignores failure (teardown of things that may be gone already). */
export function tryRun(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 20_000 });
  } catch {
    // already gone, or never made
  }
}

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

function hasCapability(bit: number): boolean {
  try {
    const hex = /CapEff:\s+([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return hex !== undefined && ((BigInt(`0x${hex}`) >> BigInt(bit)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** Why the harness cannot run here, or undefined when it can. */
export function lanUnavailableReason(): string | undefined {
  const root = process.getuid?.() === 0;
  if (!root && !(hasCapability(CAP_NET_ADMIN) && hasCapability(CAP_SYS_ADMIN))) {
    return (
      'the LAN simulation needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces, ' +
      'veth pairs, a bridge and tc netem qdiscs; run it with sudo (CI runs as root)'
    );
  }
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['tc', 'iproute2'],
  ] as const) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch {
      return `the LAN simulation needs the \`${tool}\` tool: install ${pkg} (apt-get install iproute2)`;
    }
  }
  return undefined;
}

/** Throws LanPrerequisiteError when the harness cannot run here. */
export function assertLanAvailable(): void {
  const reason = lanUnavailableReason();
  if (reason !== undefined) throw new LanPrerequisiteError(reason);
}
