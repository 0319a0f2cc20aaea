/**
 * Nodes for the browser tests, built through @allerac/node's public face only: one in this
 * process (createNode) backed by an ollama-sim, or one as its own `allerac start` process. The node
 * package's own test helpers do the same for its tests; these are the few lines the UI needs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALLERAC_BIN,
  type AlleracNode,
  createNode,
  resolveStartConfig,
  type SystemProbe,
} from '@allerac/node';
import { type OllamaSim, type OllamaSimOptions, startOllamaSim } from '@allerac/ollama-sim';

/** A node on loopback backed by an ollama-sim, in a temporary data dir. */
export interface TestNode {
  node: AlleracNode;
  sim: OllamaSim;
  dataDir: string;
  teardown(): Promise<void>;
}

/** Starts ollama-sim and a node pointing at it (mDNS off: peers are found by address). */
export async function startTestNode(options: {
  name: string;
  sim?: OllamaSimOptions;
  /** Another node's mesh key file, to join its home. */
  meshKeyFile?: string;
  /** Multiaddrs to dial at start (another node's `mesh.mesh.addresses()`). */
  bootstrap?: string[];
  /** The machine's hardware as the node probes it; the real one by default. */
  system?: SystemProbe;
  /** The Ollama models directory the node shares with its peers (--ollama-models-dir). */
  ollamaModelsDir?: string;
}): Promise<TestNode> {
  const sim = await startOllamaSim(options.sim ?? {});
  const dataDir = mkdtempSync(join(tmpdir(), 'allerac-web-'));
  const config = resolveStartConfig(
    {
      name: options.name,
      dataDir,
      httpPort: '0',
      p2pPort: '0',
      p2pHost: '127.0.0.1',
      mdns: 'off',
      bootstrap: (options.bootstrap ?? []).join(','),
      ...(options.meshKeyFile !== undefined ? { meshKeyFile: options.meshKeyFile } : {}),
      ...(options.ollamaModelsDir !== undefined ? { ollamaModelsDir: options.ollamaModelsDir } : {}),
      ollamaUrl: sim.url,
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    },
    {},
  );
  const node = await createNode(config, options.system !== undefined ? { system: options.system } : {});
  const teardown = async () => {
    await node.close(1_000);
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  await node.start().catch(async (error: unknown) => {
    await teardown();
    throw error;
  });
  return { node, sim, dataDir, teardown };
}

/** Polls `check` every 50 ms until it returns true, for at most `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A node running as its own process. */
export interface NodeProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then removes the data dir. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Starts `allerac start` on loopback (mDNS off, dialling `bootstrap`) and waits for /health. */
export async function startNodeProcess(options: {
  name: string;
  ollamaUrl: string;
  meshKeyFile: string;
  bootstrap: string[];
}): Promise<NodeProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `allerac-web-${options.name}-`));
  const args = ['start', '--name', options.name, '--http-port', String(port), '--p2p-port', '0'];
  args.push('--data-dir', dataDir, '--ollama-url', options.ollamaUrl, '--mesh-key-file', options.meshKeyFile);
  const child = spawn(process.execPath, [ALLERAC_BIN, ...args, '--log-level', 'warn'], {
    env: {
      ...process.env,
      ALLERAC_MDNS: 'off',
      ALLERAC_P2P_HOST: '127.0.0.1',
      ALLERAC_BOOTSTRAP: options.bootstrap.join(','),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${options.name} exited with ${child.exitCode}`);
      return (await fetch(`${url}/health`).catch(() => undefined))?.ok === true;
    },
    60_000,
    `${options.name} to be healthy`,
  );
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
