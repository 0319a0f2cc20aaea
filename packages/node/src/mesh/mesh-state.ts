/** Persistent mesh state in the data dir: this node's identity key, key epoch and blocklist. */

import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

/** Reads `<dataDir>/peer-key` (libp2p protobuf), creating an Ed25519 key with mode 0600 if absent. */
export async function loadOrCreatePeerKey(dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, 'peer-key');
  try {
    return privateKeyFromProtobuf(await readFile(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = await generateKeyPair('Ed25519');
  await writeAtomic(file, privateKeyToProtobuf(key));
  return key;
}

/** What survives a restart besides the keys. */
export interface MeshState {
  /** Mesh-key epoch: 0 for the first key, +1 per rotation. */
  epoch: number;
  /** Peer ids removed from the mesh. */
  blocked: string[];
}

/** Reads `<dataDir>/mesh-state.json`, or the initial state. */
export async function loadMeshState(dataDir: string): Promise<MeshState> {
  try {
    const raw = JSON.parse(await readFile(join(dataDir, 'mesh-state.json'), 'utf8')) as Partial<MeshState>;
    return {
      epoch: typeof raw.epoch === 'number' ? raw.epoch : 0,
      blocked: Array.isArray(raw.blocked)
        ? raw.blocked.filter((b): b is string => typeof b === 'string')
        : [],
    };
  } catch {
    return { epoch: 0, blocked: [] };
  }
}

/** Writes `<dataDir>/mesh-state.json` atomically with mode 0600. */
export async function saveMeshState(dataDir: string, state: MeshState): Promise<void> {
  await writeAtomic(join(dataDir, 'mesh-state.json'), new TextEncoder().encode(`${JSON.stringify(state)}\n`));
}

async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
  await chmod(file, 0o600);
}
