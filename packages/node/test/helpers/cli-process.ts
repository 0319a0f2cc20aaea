import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');

/** One run of the built `allerac` CLI as a child process, its output collected. */
export interface CliProcess {
  child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | NodeJS.Signals>;
  /** Resolves once stdout or stderr matches; rejects if the process exits first. */
  waitForOutput(pattern: RegExp): Promise<RegExpMatchArray>;
}

/** Environment for a node in a test: loopback only, no mDNS, no Ollama. */
export const QUIET_NODE_ENV: NodeJS.ProcessEnv = {
  ALLERAC_MDNS: 'off',
  ALLERAC_P2P_HOST: '127.0.0.1',
  ALLERAC_OLLAMA_URL: 'http://127.0.0.1:9',
  ALLERAC_HTTP_HOST: '127.0.0.1',
};

/** Runs `allerac ARGS` (stdout and stderr are pipes, so not a TTY). */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; detached?: boolean } = {},
): CliProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...QUIET_NODE_ENV, ...options.env };
  // A test must not inherit the runner's choice, nor a data dir or a token of the machine.
  for (const key of ['ALLERAC_LOG_FORMAT', 'ALLERAC_DATA_DIR', 'ALLERAC_TOKEN', 'ALLERAC_URL'])
    if (options.env?.[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [CLI, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const notify = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    notify();
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('close', (code, signal) => {
      resolve(code ?? (signal as NodeJS.Signals));
      notify();
    }),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern) ?? err.match(pattern);
          if (match !== null) resolve(match);
          else if (done || child.exitCode !== null)
            reject(new Error(`exited before printing ${pattern}:\n${out}\n${err}`));
          else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** `allerac start` on a data dir, any free ports; resolves once it has started (its URL). */
export async function startNodeCli(
  dataDir: string,
  extra: string[] = [],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<CliProcess & { url: string }> {
  const run = runCli(
    ['start', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0', '--name', 'lock-test', ...extra],
    options,
  );
  // The banner, written once the node serves, whatever the log format.
  const [, url] = await run.waitForOutput(/Open (http:\/\/\S+?)(?: to finish setup| in a browser)\./);
  return { ...run, url: url as string };
}

/** Runs a CLI command to its end; resolves with its exit code and output. */
export async function cliResult(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ code: number | NodeJS.Signals; stdout: string; stderr: string }> {
  const run = runCli(args, options);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
