/**
 * A paired peer in this process with only a libp2p mesh: no backend, no HTTP. Its card says what
 * the test wants (models, load), and the test decides what it does with inference streams, to
 * play a peer that floods, holds streams or resets them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mesh, MeshStreamHandler } from '@allerac/mesh';
import type { ModelInfo } from '@allerac/protocol';
import { pino } from 'pino';
import { createNodeMesh as createMesh } from '../../src/mesh-runtime.js';
import { waitFor } from './test-node.js';

/** A running bare peer. */
export interface BarePeer {
  mesh: Mesh;
  stop(): Promise<void>;
}

/** Starts a bare peer that joins the home of `meshKeyFile` through `bootstrap`, and waits for `peerOf`. */
export async function startBarePeer(options: {
  name: string;
  meshKeyFile: string;
  bootstrap: string[];
  /** The peer id to wait for until it is online. */
  peerOf: string;
  /** Models its card claims, all loaded; none by default. */
  models?: string[];
  handlers?: Record<string, MeshStreamHandler>;
}): Promise<BarePeer> {
  const dataDir = mkdtempSync(join(tmpdir(), `allerac-${options.name}-`));
  mkdirSync(dataDir, { recursive: true });
  const models: ModelInfo[] = (options.models ?? []).map((name) => ({
    name,
    sizeBytes: 2e9,
    family: 'llama',
    parameterSize: '3.2B',
    quantization: 'Q4_K_M',
    loaded: true,
  }));
  const mesh = createMesh(
    {
      name: options.name,
      dataDir,
      meshKeyFile: options.meshKeyFile,
      listenHost: '127.0.0.1',
      p2pPort: 0,
      specializations: [],
      softwareVersion: '0.1.0-test',
      mdns: false,
      bootstrap: options.bootstrap,
    },
    {
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      cardSource: async () => ({
        backend: { state: 'up', url: 'http://127.0.0.1:9', version: '0.0.0-test' },
        models,
        load: { activeTasks: 0, queueDepth: 0, slots: 4, tokensPerSecond: {} },
      }),
    },
  );
  for (const [protocol, handler] of Object.entries(options.handlers ?? {})) mesh.handle(protocol, handler);
  await mesh.start();
  await waitFor(
    () => mesh.peers().some((p) => p.id === options.peerOf && p.status === 'online'),
    30_000,
    `${options.name} to see its peer online`,
  );
  let stopped: Promise<void> | undefined;
  return {
    mesh,
    stop() {
      stopped ??= (async () => {
        await mesh.stop();
        rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
