/**
 * Joining a home with a key received through an invitation (pairing-service.ts): the key file and the mesh state change together, and
 * a key this node knows to be retired is refused, so an old code (or an old `--join` left in a
 * service file) cannot take a node back onto a key the home has left.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { meshKeyId } from '@allerac/protocol';
import { JoinCodeError } from './join-code.js';
import { parseSwarmKey, writeMeshKey } from './mesh-key.js';
import { loadMeshState, saveMeshState } from './mesh-state.js';

/** What a join did: adopted a new key, found the same key in use, or refused a retired one. */
export type JoinOutcome = 'joined' | 'same' | 'retired';

/** The key an invitation brought is one this node knows the home has retired: the inviter is out of date. */
export class RetiredJoinCodeError extends JoinCodeError {
  override name = 'RetiredJoinCodeError';
  constructor() {
    super(
      'the node that made this code holds a mesh key the home has retired since; get a fresh code from a current node of the home',
    );
  }
}

/**
 * Writes `key` as the mesh key and resets what the state knows of the epoch (learnt again from the
 * peers), unless it is the key in use or a retired one. The blocklist is kept until then.
 */
export async function applyJoin(dataDir: string, meshKeyFile: string, key: Uint8Array): Promise<JoinOutcome> {
  const id = meshKeyId(key);
  const state = await loadMeshState(dataDir);
  if (state.retired.includes(id)) return 'retired';
  const inUse = await readFile(meshKeyFile).then(
    (file) => meshKeyId(parseSwarmKey(file)),
    () => undefined,
  );
  if (inUse === id && state.outOfDate === undefined) return 'same';
  await writeMeshKey(meshKeyFile, key);
  const { outOfDate: _dropped, current: _old, ...kept } = state;
  await saveMeshState(dataDir, { ...kept, epoch: null, keyId: id });
  return 'joined';
}

const JOINED_FILE = 'joined-invitations.json';
/** Codes remembered: a `--join` left in a service file is one code, so a few are plenty. */
const JOINED_KEPT = 16;

const codeId = (secret: Uint8Array) =>
  createHash('sha256').update('allerac-joined').update(secret).digest('hex');

/**
 * Whether this node already joined with the invitation of `secret`: an `ALLERAC_JOIN` kept in a
 * service file comes back at every start, long after its code was used.
 */
export async function joinedWith(dataDir: string, secret: Uint8Array): Promise<boolean> {
  return (await readJoined(dataDir)).includes(codeId(secret));
}

/** Remembers that this node joined with the invitation of `secret` (a hash, never the secret). */
export async function recordJoined(dataDir: string, secret: Uint8Array): Promise<void> {
  const ids = [...(await readJoined(dataDir)), codeId(secret)].slice(-JOINED_KEPT);
  await writeFile(join(dataDir, JOINED_FILE), JSON.stringify(ids), { mode: 0o600 });
}

async function readJoined(dataDir: string): Promise<string[]> {
  try {
    const value: unknown = JSON.parse(await readFile(join(dataDir, JOINED_FILE), 'utf8'));
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}
