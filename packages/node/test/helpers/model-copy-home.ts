/**
 * Two or three nodes of a home in this process for the model-copy tests: a real mesh on loopback
 * TCP each (mDNS off), an ollama-sim with its own store on disk, and MODELS_PROTOCOL served from
 * that store, exactly as the daemon wires it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Mesh } from '@allerac/mesh';
import { generateMeshKey, writeMeshKey } from '@allerac/mesh';
import { type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import { MODELS_PROTOCOL } from '@allerac/protocol';
import { pino } from 'pino';
import type { Backend } from '../../src/backend/backend.js';
import { createOllamaBackend } from '../../src/backend/ollama-backend.js';
import { createNodeMesh } from '../../src/mesh-runtime.js';
import { BulkLaneServer } from '../../src/models/bulk-lane.js';
import { ModelsDirectory } from '../../src/models/models-dir.js';
import { serveModelsStream } from '../../src/models/models-server.js';
import { waitFor } from './test-node.js';

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** One node of the home. */
export interface HomeNode {
  name: string;
  mesh: Mesh;
  sim: OllamaSim;
  backend: Backend;
  storeDir: string;
  /** MODELS_PROTOCOL streams that reached this node's handler. */
  served: { streams: number };
  /** Its bulk lane, when started with `lane`. */
  lane?: BulkLaneServer;
  stop(): Promise<void>;
}

const stops: Array<() => Promise<void>> = [];

/** Stops every node the tests made. */
export async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
}

/** A new mesh key file in a temp dir. */
export async function newHomeKey(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'allerac-home-key-'));
  stops.push(async () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mesh.key');
  await writeMeshKey(file, generateMeshKey());
  return file;
}

/** Starts a node on `meshKeyFile` whose Ollama holds `models` (real bytes of `modelBytes`). */
export async function startHomeNode(
  name: string,
  meshKeyFile: string,
  options: {
    models?: string[];
    modelBytes?: number;
    bootstrap?: string[];
    serveModels?: boolean;
    lane?: boolean;
  } = {},
): Promise<HomeNode> {
  const dataDir = mkdtempSync(join(tmpdir(), `allerac-${name}-`));
  const storeDir = join(dataDir, 'models');
  const sim = await startOllamaSim({
    profile: 'fast',
    models: options.models ?? [],
    storeDir,
    modelBytes: options.modelBytes ?? 300_000,
  });
  const backend = createOllamaBackend({ url: sim.url }, { logger });
  await backend.start();
  const mesh = createNodeMesh(
    {
      name,
      dataDir,
      meshKeyFile,
      listenHost: '127.0.0.1',
      p2pPort: 0,
      specializations: [],
      softwareVersion: '0.1.0-test',
      mdns: false,
      bootstrap: options.bootstrap ?? [],
    },
    {
      logger,
      cardSource: async () => ({
        backend: { state: 'up', url: sim.url, version: '0.0.0-test' },
        models: (options.models ?? []).map((model) => ({
          name: model,
          sizeBytes: options.modelBytes ?? 300_000,
          family: 'llama',
          parameterSize: '3.2B',
          quantization: 'Q4_K_M',
          loaded: false,
        })),
        load: { activeTasks: 0, queueDepth: 0, slots: 4, tokensPerSecond: {} },
      }),
    },
  );
  const served = { streams: 0 };
  const lane = options.lane === true ? new BulkLaneServer({ host: '127.0.0.1', logger }) : undefined;
  if (options.serveModels !== false) {
    const dir = new ModelsDirectory(storeDir);
    mesh.handle(MODELS_PROTOCOL, (stream, peer) => {
      served.streams++;
      return serveModelsStream(dir, stream, peer, logger, lane);
    });
  }
  await mesh.start();
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await lane?.close();
      await mesh.stop();
      await backend.stop();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  stops.push(stop);
  return { name, mesh, sim, backend, storeDir, served, ...(lane !== undefined ? { lane } : {}), stop };
}

/** Waits until `a` sees `b` online. */
export async function online(a: HomeNode, b: HomeNode): Promise<void> {
  await waitFor(
    () => a.mesh.peers().some((p) => p.id === b.mesh.peerId && p.status === 'online'),
    30_000,
    `${a.name} to see ${b.name} online`,
  );
}

/** A holder in its own process (fixtures/models-holder.ts). */
export interface HolderProcess {
  peerId: string;
  addresses: string[];
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/** Spawns a holder; `dataDir` keeps its peer key, so a restart keeps its peer id. */
export async function spawnHolder(config: {
  name: string;
  dataDir: string;
  meshKeyFile: string;
  storeDir: string;
  models: string[];
  modelBytes: number;
}): Promise<HolderProcess> {
  const fixture = join(import.meta.dirname, '..', 'fixtures', 'models-holder.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  stops.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code, signal) =>
      reject(new Error(`holder exited (${code ?? signal}) before it started`)),
    );
  });
  const { peerId, addresses } = JSON.parse(first) as { peerId: string; addresses: string[] };
  return { peerId, addresses, child, exited };
}

/** A temp dir removed after the test. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  stops.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
