/**
 * Runs the deploy scripts the way a user does (bash, real files), with the installer's
 * override variables for the machine's facts. Detached, so no controlling terminal: a question
 * the script asks can never wait for input.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** deploy/ of this checkout. */
export const DEPLOY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The repository root. */
export const REPO_ROOT = resolve(DEPLOY_DIR, '..');

/** What a finished script left behind. */
export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, in the order lines were read. */
  output: string;
}

/** Runs `bash <script> ...args` with extra env; kills it after timeoutMs. */
export function runScript(
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<ScriptResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [resolve(DEPLOY_DIR, script), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ALLERAC_NONINTERACTIVE: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not finish in ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, output });
    });
  });
}

/** Fails with the install command when shellcheck is missing: CI must not skip the check. */
export function requireShellcheck(): void {
  const found = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
  if (found.error !== undefined || found.status !== 0) {
    throw new Error('shellcheck is not installed; install it (Debian/Ubuntu: apt-get install -y shellcheck)');
  }
}
