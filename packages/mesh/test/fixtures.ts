/**
 * In-process fixtures of the mesh tests: meshes on loopback TCP with mDNS off (nothing leaves the
 * machine, no root, no namespace), a fixed hardware probe, and waits on events rather than sleeps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HardwareInfo } from '@allerac/protocol';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import pino from 'pino';
import {
  createMesh,
  formatSwarmKey,
  type LocalCardState,
  loadOrCreateMeshKey,
  type Mesh,
  type MeshEvents,
  type MeshInit,
  type PeerView,
  writeMeshKey,
} from '../src/index.js';

/** This machine as the tests' cards describe it. */
export const TEST_HARDWARE: HardwareInfo = {
  cpuModel: 'test cpu',
  cores: 4,
  ramTotal: 8 * 1024 ** 3,
  ramFree: 4 * 1024 ** 3,
  gpus: [],
  diskFree: 100 * 1024 ** 3,
};

const LOCAL: LocalCardState = {
  backend: { state: 'down' },
  models: [],
  load: { activeTasks: 0, queueDepth: 0, slots: 1, tokensPerSecond: {} },
};

/** A mesh under test with its data dir. */
export interface TestMesh {
  mesh: Mesh;
  dataDir: string;
  meshKeyFile: string;
  meshKey: Uint8Array;
  /** Stops the mesh and removes its data dir; safe to call twice. */
  cleanup(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];

/** Stops every mesh and prober the tests made (for afterEach). */
export async function cleanupAll(): Promise<void> {
  await Promise.allSettled(cleanups.splice(0).map((c) => c()));
}

/** Starts a mesh on 127.0.0.1 with mDNS off, on `meshKey` (another node's, to share a home) or a new key. */
export async function startMesh(
  name: string,
  options: { meshKey?: Uint8Array; init?: Partial<MeshInit> } = {},
): Promise<TestMesh> {
  const dataDir = mkdtempSync(join(tmpdir(), `allerac-mesh-${name}-`));
  const meshKeyFile = join(dataDir, 'mesh.key');
  if (options.meshKey !== undefined) await writeMeshKey(meshKeyFile, options.meshKey);
  const meshKey = await loadOrCreateMeshKey(meshKeyFile);
  const mesh = createMesh(
    {
      name,
      dataDir,
      meshKeyFile,
      listenHost: '127.0.0.1',
      p2pPort: 0,
      specializations: [],
      softwareVersion: '0.1.0-test',
      mdns: false,
      ...options.init,
    },
    {
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }).child({ node: name }),
      cardSource: async () => structuredClone(LOCAL),
      hardware: async () => TEST_HARDWARE,
    },
  );
  let done = false;
  const cleanup = async () => {
    if (done) return;
    done = true;
    await mesh.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  cleanups.push(cleanup);
  await mesh.start();
  return { mesh, dataDir, meshKeyFile, meshKey, cleanup };
}

/** Resolves with the first `event` of `mesh` whose view satisfies `match`. */
export function nextPeerEvent(
  mesh: Mesh,
  event: 'peer:join' | 'peer:update' | 'peer:leave',
  match: (view: PeerView) => boolean = () => true,
): Promise<PeerView> {
  return new Promise((resolve) => {
    const listener = (evt: MeshEvents[typeof event]) => {
      if (!match(evt.detail)) return;
      mesh.removeEventListener(event, listener);
      resolve(evt.detail);
    };
    mesh.addEventListener(event, listener);
  });
}

/** A bare libp2p host on a mesh key, standing in for a peer that does what a test makes it do. */
export interface RawPeer {
  node: Libp2p;
  key: PrivateKey;
  /** Resolves when the connection to `peer` closes. */
  disconnected(peer: string): Promise<void>;
}

/** Starts a raw peer on `meshKey` (dial only, no handlers). */
export async function rawPeer(meshKey: Uint8Array): Promise<RawPeer> {
  const key = await generateKeyPair('Ed25519');
  const node = await createLibp2p({
    privateKey: key,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: preSharedKey({ psk: formatSwarmKey(meshKey) }),
    connectionGater: { denyDialMultiaddr: () => false },
  });
  cleanups.push(async () => {
    await node.stop();
  });
  return {
    node,
    key,
    disconnected: (peer) =>
      new Promise((resolve) => {
        const check = () => {
          if (node.getConnections().some((c) => c.remotePeer.toString() === peer)) return false;
          node.removeEventListener('peer:disconnect', check);
          resolve();
          return true;
        };
        node.addEventListener('peer:disconnect', check);
        check();
      }),
  };
}
