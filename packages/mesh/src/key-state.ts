/** The mesh key's state as the mesh keeps it: squared with the key file at start, and reported. */
import { meshKeyId } from '@allerac/protocol';
import type { Logger } from 'pino';
import { loadMeshState, type MeshState, saveMeshState } from './mesh-state.js';

/** Where this node stands with the home's mesh key. */
export interface MeshKeyStatus {
  /**
   * `current`; `joining` after a join until the epoch is learnt from the peers; `out-of-date` when
   * the home rotated the key while this node was away; `removed` when that rotation removed it.
   */
  state: 'current' | 'joining' | 'out-of-date' | 'removed';
  /** Key epoch; null while joining. */
  epoch: number | null;
  /** What to do about it, for logs, `/health` and the UI; absent when all is well. */
  message?: string;
  /** The rotation that introduced the current key. */
  lastRotation?: { epoch: number; issuer: string; removed: string | undefined; issuedAt: number };
}

/** Reads the mesh state and squares it with the key file, which may have changed outside. */
export async function reconcileKeyState(dataDir: string, key: Uint8Array, log: Logger): Promise<MeshState> {
  const state = await loadMeshState(dataDir);
  const id = meshKeyId(key);
  if (state.keyId === id) return state;
  if (state.keyId === undefined) {
    // A home made before key ids were recorded, or a brand-new node: this key is the known one.
    state.keyId = id;
  } else if (state.retired.includes(id)) {
    // An old key put back (a copied file, a restored backup): the home has left it.
    log.warn({ event: 'mesh-key-retired', keyId: id }, 'the mesh key file holds a retired key');
    state.keyId = id;
    state.outOfDate ??= { removed: false, epoch: (state.epoch ?? 0) + 1, at: Date.now() };
  } else {
    // The key file was replaced by a new key (copied, or written by a join): its epoch is learnt anew.
    log.info({ event: 'mesh-key-changed', keyId: id }, 'the mesh key file changed; learning its epoch');
    const { current: _c, outOfDate: _o, ...kept } = state;
    const joined: MeshState = { ...kept, epoch: null, keyId: id };
    await saveMeshState(dataDir, joined);
    return joined;
  }
  await saveMeshState(dataDir, state);
  return state;
}

/** The key status of `state`; `nameOf` names the issuer of a rotation when it is a known peer. */
export function keyStatusOf(state: MeshState, nameOf: (peer: string) => string | undefined): MeshKeyStatus {
  const { epoch, outOfDate, current } = state;
  if (outOfDate !== undefined) {
    const issuer = outOfDate.issuer;
    const by = issuer === undefined ? '' : ` by ${nameOf(issuer) ?? issuer}`;
    return outOfDate.removed
      ? {
          state: 'removed',
          epoch,
          message: `this node was removed from the home${by}; it can come back only as a new node (a new data dir) with a fresh code`,
        }
      : {
          state: 'out-of-date',
          epoch,
          message: `mesh key out of date: the home rotated its key (epoch ${outOfDate.epoch}${by}) while this node was away; join again with a fresh code from \`allerac pair\` on a current node`,
        };
  }
  if (epoch === null)
    return { state: 'joining', epoch, message: 'joined with a code; learning the key epoch from the peers' };
  if (current === undefined) return { state: 'current', epoch };
  const { rotation } = current;
  return {
    state: 'current',
    epoch,
    lastRotation: {
      epoch: rotation.epoch,
      issuer: rotation.issuer,
      removed: rotation.blocked.at(-1),
      issuedAt: rotation.issuedAt,
    },
  };
}
