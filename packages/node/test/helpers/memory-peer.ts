/**
 * A memory-sync peer in this process for multi-node tests: its own PGlite store in a data dir,
 * an Ollama backend (ollama-sim) for embeddings, a real libp2p mesh on loopback (no mDNS), the
 * memory service and the sync binding, with every outbound sync frame recorded.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createOllamaBackend } from '../../src/backend/ollama-backend.js';
import { LocalLoad } from '../../src/inference/local-load.js';
import { LocalModels } from '../../src/inference/local-models.js';
import { PeerMeasurements } from '../../src/inference/measurements.js';
import { MeshGateway } from '../../src/inference/mesh-gateway.js';
import { createMemoryService, type MemoryService } from '../../src/memory/memory-service.js';
import { bindSpaceSyncToMesh, type SpaceSyncTransport } from '../../src/memory/sync-transport.js';
import { createMesh, type Mesh } from '../../src/mesh/index.js';
import { openPgliteDatabase } from '../../src/store/pglite-database.js';
import { createStore, type Store } from '../../src/store/store.js';
import { createHardwareProbe } from '../../src/system/hardware.js';

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
  const store = await createStore(await openPgliteDatabase(join(dataDir, 'db')));
  const backend = createOllamaBackend({ url: options.ollamaUrl }, { logger });
  await backend.start();
  // The gateway is not attached to the mesh: embeddings are this peer's own, as the tests expect.
  const gateway = new MeshGateway(
    { nodeName: () => options.name, specializations: () => [], defaultPolicy: () => ({ kind: 'auto' }) },
    {
      backend,
      localModels: new LocalModels(backend),
      load: new LocalLoad(),
      measurements: new PeerMeasurements(),
      hardware: createHardwareProbe({ dataDir }),
      logger,
    },
  );
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
    },
    {
      logger,
      cardSource: async () => ({
        backend: { state: 'up', url: options.ollamaUrl, version: '0.0.0-test' },
        models: [],
        load: { activeTasks: 0, queueDepth: 0, slots: 1, tokensPerSecond: {} },
      }),
    },
  );
  await mesh.start();
  const memory = createMemoryService(options.name, { store, gateway, logger });
  await memory.start();
  const transport: SpaceSyncTransport = bindSpaceSyncToMesh(mesh, memory.spaces, logger, {
    onOutboundFrame: (peer, bytes) => options.frames.push({ from: options.name, to: peer, bytes }),
  });
  let stopped: Promise<void> | undefined;
  return {
    name: options.name,
    dataDir,
    mesh,
    store,
    memory,
    stop() {
      stopped ??= (async () => {
        await transport.stop();
        await mesh.stop();
        await memory.stop();
        await backend.stop();
        await store.close();
      })();
      return stopped;
    },
  };
}
