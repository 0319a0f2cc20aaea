import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './test-node.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');

/** A node running as its own process (so a test can SIGKILL it), on loopback with mDNS off. */
export interface NodeProcess {
  name: string;
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** Kills with SIGKILL: no leave message, no cleanup, as a crash or a pulled plug. */
  kill(): Promise<void>;
  /** SIGTERM, then removes the data dir. */
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Starts `allerac start` as a child process and waits for /health. */
export async function startNodeProcess(options: {
  name: string;
  ollamaUrl: string;
  /** Another node's mesh key file, to share its home; absent, the node makes its own key. */
  meshKeyFile?: string;
  bootstrap: string[];
  /** An invitation code, for `--join`. */
  join?: string;
}): Promise<NodeProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `allerac-${options.name}-`));
  const child = spawn(
    process.execPath,
    [
      CLI,
      'start',
      '--name',
      options.name,
      '--http-port',
      String(port),
      '--http-host',
      '127.0.0.1',
      '--p2p-port',
      '0',
      '--data-dir',
      dataDir,
      '--ollama-url',
      options.ollamaUrl,
      ...(options.meshKeyFile !== undefined ? ['--mesh-key-file', options.meshKeyFile] : []),
      ...(options.join !== undefined ? ['--join', options.join] : []),
      '--log-level',
      process.env.TEST_LOG_LEVEL ?? 'warn',
    ],
    {
      env: {
        ...process.env,
        ALLERAC_MDNS: 'off',
        ALLERAC_P2P_HOST: '127.0.0.1',
        ALLERAC_BOOTSTRAP: options.bootstrap.join(','),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${options.name} exited with ${child.exitCode}`);
      return (await fetch(`${url}/health`).catch(() => undefined))?.ok === true;
    },
    60_000,
    `${options.name} to be healthy`,
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    name: options.name,
    url,
    dataDir,
    child,
    kill: () => stopWith('SIGKILL'),
    async stop() {
      await stopWith('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
