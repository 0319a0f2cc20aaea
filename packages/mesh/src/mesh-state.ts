/**
 * Persistent mesh state in the data dir: this node's identity key, and what it knows about its
 * mesh key (epoch, blocklist, the rotation that introduced it, the keys it retired), plus the
 * retired keys themselves, kept only to tell a node still on one that it is out of date.
 */

import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { keyRotationSchema, type SignedKeyRotation } from '@allerac/protocol';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

/** Retired key ids remembered, so a join code or key file of an old key is recognised as such. */
const MAX_RETIRED_KEY_IDS = 64;
/** Retired raw keys kept for out-of-date notices: a node away for more rotations gets none. */
export const MAX_RETIRED_KEYS = 8;

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

/** Why this node's mesh key is out of date: the home rotated it while the node was away. */
export interface OutOfDate {
  /** True when the rotation removed this very node. */
  removed: boolean;
  /** Epoch of the rotation that retired our key. */
  epoch: number;
  /** Peer id of the node whose admin rotated the key; absent when we found an old key on disk. */
  issuer?: string;
  /** Peer id of the node that told us; absent when we found an old key on disk. */
  notifier?: string;
  /** When we learnt it, ms since the Unix epoch. */
  at: number;
}

/** What survives a restart besides the keys. */
export interface MeshState {
  /** Mesh-key epoch: 0 for the home's first key, +1 per rotation; null after a join (not yet learnt). */
  epoch: number | null;
  /** Peer ids removed from the mesh. */
  blocked: string[];
  /** `meshKeyId` of the key this state describes; a key file with another id was changed outside. */
  keyId?: string;
  /** The signed rotation that introduced the current key; absent at epoch 0 or before catching up. */
  current?: SignedKeyRotation;
  /** Ids of keys this node rotated away from or was told are retired: never joined with again. */
  retired: string[];
  /** Set when the home moved on without this node; cleared only by joining with a fresh code. */
  outOfDate?: OutOfDate;
}

/** The state of a node that has never rotated: epoch 0, nobody blocked. */
export function initialMeshState(): MeshState {
  return { epoch: 0, blocked: [], retired: [] };
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((b): b is string => typeof b === 'string') : [];

/** Reads `<dataDir>/mesh-state.json`, or the initial state; drops fields it cannot trust. */
export async function loadMeshState(dataDir: string): Promise<MeshState> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(join(dataDir, 'mesh-state.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return initialMeshState();
  }
  const state: MeshState = {
    epoch: raw.epoch === null ? null : typeof raw.epoch === 'number' ? raw.epoch : 0,
    blocked: strings(raw.blocked),
    retired: strings(raw.retired),
  };
  if (typeof raw.keyId === 'string') state.keyId = raw.keyId;
  const current = raw.current as Partial<SignedKeyRotation> | undefined;
  if (current !== undefined && typeof current.signature === 'string') {
    try {
      state.current = { rotation: keyRotationSchema(current.rotation, '$'), signature: current.signature };
    } catch {
      // a damaged record is only lost knowledge: the node catches up from its peers again
    }
  }
  const outOfDate = raw.outOfDate as Partial<OutOfDate> | undefined;
  if (outOfDate !== undefined && typeof outOfDate.epoch === 'number') {
    state.outOfDate = {
      removed: outOfDate.removed === true,
      epoch: outOfDate.epoch,
      at: typeof outOfDate.at === 'number' ? outOfDate.at : 0,
      ...(typeof outOfDate.issuer === 'string' ? { issuer: outOfDate.issuer } : {}),
      ...(typeof outOfDate.notifier === 'string' ? { notifier: outOfDate.notifier } : {}),
    };
  }
  return state;
}

/** Writes `<dataDir>/mesh-state.json` atomically with mode 0600. */
export async function saveMeshState(dataDir: string, state: MeshState): Promise<void> {
  const bounded = { ...state, retired: state.retired.slice(-MAX_RETIRED_KEY_IDS) };
  await writeAtomic(
    join(dataDir, 'mesh-state.json'),
    new TextEncoder().encode(`${JSON.stringify(bounded)}\n`),
  );
}

/** A key the home rotated away from, with the rotation that retired it. */
export interface RetiredKey {
  /** The raw 32-byte key. */
  key: Uint8Array;
  /** The rotation whose `previousKeyId` it is. */
  retiredBy: SignedKeyRotation;
}

/** Reads `<dataDir>/retired-keys.json`, newest first; an unreadable file is an empty list. */
export async function loadRetiredKeys(dataDir: string): Promise<RetiredKey[]> {
  try {
    const raw = JSON.parse(await readFile(join(dataDir, 'retired-keys.json'), 'utf8')) as unknown;
    if (!Array.isArray(raw)) return [];
    return raw.flatMap((entry: { key?: unknown; retiredBy?: Partial<SignedKeyRotation> }) => {
      if (typeof entry.key !== 'string' || !/^[0-9a-f]{64}$/.test(entry.key)) return [];
      if (typeof entry.retiredBy?.signature !== 'string') return [];
      try {
        const rotation = keyRotationSchema(entry.retiredBy.rotation, '$');
        return [
          {
            key: Uint8Array.from(Buffer.from(entry.key, 'hex')),
            retiredBy: { rotation, signature: entry.retiredBy.signature },
          },
        ];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/** Adds a retired key in front of `<dataDir>/retired-keys.json` (mode 0600), keeping the newest few. */
export async function addRetiredKey(dataDir: string, retired: RetiredKey): Promise<void> {
  const list = [retired, ...(await loadRetiredKeys(dataDir))].slice(0, MAX_RETIRED_KEYS);
  const json = list.map((r) => ({ key: Buffer.from(r.key).toString('hex'), retiredBy: r.retiredBy }));
  await writeAtomic(
    join(dataDir, 'retired-keys.json'),
    new TextEncoder().encode(`${JSON.stringify(json)}\n`),
  );
}

async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
  await chmod(file, 0o600);
}
