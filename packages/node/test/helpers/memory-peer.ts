/**
 * A memory-sync peer in this process for multi-node tests: a whole node (createNode) in its own
 * data dir on loopback (no mDNS), with ollama-sim for embeddings, and every outbound sync frame
 * recorded.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Mesh } from '@allerac/mesh';
import { pino } from 'pino';
import { resolveStartConfig } from '../../src/config.js';
import { createNode } from '../../src/daemon.js';
import type { MemoryService } from '../../src/memory/memory-service.js';
import type { Store } from '../../src/store/store.js';

/** One frame a peer sent. */
export interface SentFrame {
  from: string;
  to: string;
  bytes: Uint8Array;
}

/** A running memory peer. */
export interface MemoryPeer {
  name: string;
  dataDir: string;
  mesh: Mesh;
  store: Store;
  memory: MemoryService;
  stop(): Promise<void>;
}

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Starts a peer; `frames` collects what it sends. */
export async function startMemoryPeer(options: {
  name: string;
  root: string;
  meshKeyFile: string;
  ollamaUrl: string;
  frames: SentFrame[];
}): Promise<MemoryPeer> {
  const dataDir = join(options.root, options.name);
  mkdirSync(dataDir, { recursive: true });
  const config = resolveStartConfig(
    {
      name: options.name,
      dataDir,
      httpPort: '0',
      httpHost: '127.0.0.1',
      p2pPort: '0',
      p2pHost: '127.0.0.1',
      mdns: 'off',
      bootstrap: '',
      ollamaUrl: options.ollamaUrl,
      meshKeyFile: options.meshKeyFile,
      logLevel: 'silent',
    },
    {},
  );
  const node = await createNode(config, {
    logger,
    onSyncFrame: (peer, bytes) => options.frames.push({ from: options.name, to: peer, bytes }),
  });
  try {
    await node.start();
  } catch (error) {
    await node.close(0);
    throw error;
  }
  return {
    name: options.name,
    dataDir,
    mesh: node.mesh.mesh,
    store: node.store,
    memory: node.memory,
    stop: () => node.close(1_000),
  };
}
