/**
 * How the updater restarts the node: a pluggable command. systemd (`systemctl restart allerac`),
 * launchd (`launchctl kickstart -k ...`) or the no-systemd fallback `<prefix>/bin/allerac-service`,
 * which install.sh writes in every mode.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'shell-quote';
import { UpdateError } from './errors.js';

const run = promisify(execFile);

/** Stops and (re)starts the node's service. */
export interface ServiceControl {
  /** A description for logs and the report. */
  readonly description: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A ServiceControl from two argv arrays; each command gets two minutes. */
export function commandServiceControl(restart: readonly string[], stop: readonly string[]): ServiceControl {
  const exec = async (argv: readonly string[]) => {
    const [file, ...args] = argv;
    if (file === undefined) throw new UpdateError('empty service command');
    try {
      await run(file, args, { timeout: 120_000 });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new UpdateError(`\`${argv.join(' ')}\` failed: ${(e.stderr ?? '').trim() || e.message}`);
    }
  };
  return {
    description: restart.join(' '),
    restart: () => exec(restart),
    stop: () => exec(stop),
  };
}

/**
 * Splits a `--restart-cmd`/`--stop-cmd` into argv the way a shell would (quotes, backslashes,
 * `$VAR` from the environment). The command runs without a shell, so operators, redirections and
 * globs are refused rather than passed on as literal arguments.
 */
export function parseServiceCommand(command: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const argv: string[] = [];
  for (const entry of parse(command, (key) => env[key] ?? '')) {
    if (typeof entry === 'string') argv.push(entry);
    else if ('comment' in entry) break;
    else {
      const what = entry.op === 'glob' ? `the pattern "${entry.pattern}"` : `"${entry.op}"`;
      throw new UpdateError(
        `\`${command}\` is not one program and its arguments: ${what} needs a shell; use sh -c '...'`,
      );
    }
  }
  if (argv.length === 0) throw new UpdateError('the service command is empty');
  return argv;
}

/**
 * The service control of an install prefix: `<prefix>/bin/allerac-service` when present (it
 * drives systemd, launchd or a background process itself), else systemd's unit `allerac`.
 */
export function defaultServiceControl(prefix: string): ServiceControl {
  const script = join(prefix, 'bin', 'allerac-service');
  if (existsSync(script)) return commandServiceControl([script, 'restart'], [script, 'stop']);
  return commandServiceControl(['systemctl', 'restart', 'allerac'], ['systemctl', 'stop', 'allerac']);
}
