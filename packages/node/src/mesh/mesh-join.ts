/**
 * Joining a home with a key from a join code: the key file and the mesh state change together, and
 * a key this node knows to be retired is refused, so an old code (or an old `--join` left in a
 * service file) cannot take a node back onto a key the home has left.
 */
import { readFile } from 'node:fs/promises';
import { meshKeyId } from '@allerac/protocol';
import { JoinCodeError } from './join-code.js';
import { parseSwarmKey, writeMeshKey } from './mesh-key.js';
import { loadMeshState, saveMeshState } from './mesh-state.js';

/** What a join did: adopted a new key, found the same key in use, or refused a retired one. */
export type JoinOutcome = 'joined' | 'same' | 'retired';

/** A join code for a key the home has retired; a JoinCodeError, so every caller maps it to 400. */
export class RetiredJoinCodeError extends JoinCodeError {
  constructor() {
    super(
      'this join code is out of date: the home has rotated its mesh key since; get a fresh code with `allerac pair` on a current node',
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
