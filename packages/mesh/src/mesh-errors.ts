/** Errors of the mesh's admin actions: domain errors, which the HTTP layer maps to statuses. */
import { MeshConflictError, MeshInputError, MeshUnavailableError } from './errors.js';

/** This node's mesh key was retired by the home while it was away: it must join again. */
export class MeshKeyOutOfDateError extends MeshConflictError {
  override name = 'MeshKeyOutOfDateError';
  constructor() {
    super('mesh key out of date: join again with a fresh code from `allerac pair` on a current node');
  }
}

/** The node joined with a code and has not learnt the key epoch from its peers yet. */
export class MeshEpochUnknownError extends MeshConflictError {
  override name = 'MeshEpochUnknownError';
  constructor() {
    super('this node has not learnt the home’s key epoch from its peers yet; try again once they are online');
  }
}

/** A rotation is already under way on this node; one at a time keeps epochs in step. */
export class KeyRotationBusyError extends MeshConflictError {
  override name = 'KeyRotationBusyError';
  constructor() {
    super('a key rotation is already under way; try again in a few seconds');
  }
}

/** The peer to remove is this node itself. */
export class CannotRemoveSelfError extends MeshInputError {
  override name = 'CannotRemoveSelfError';
  constructor() {
    super('a node cannot remove itself; remove it from another node of the home');
  }
}

/** When to try a rotation again that too few peers took: once they are back online. */
const ROTATION_RETRY_SECONDS = 10;

/**
 * Fewer than a majority of the connected peers took the rotation, so nobody adopts it (each
 * receiver applies the same majority rule) and the home keeps its key and its blocklist; the
 * admin may try again.
 */
export class KeyRotationNotCorroboratedError extends MeshUnavailableError {
  override name = 'KeyRotationNotCorroboratedError';
  /** Peers that took it. */
  readonly holders: number;
  /** Peers it was sent to. */
  readonly targets: number;
  constructor(holders: number, targets: number) {
    super(
      `the key rotation reached only ${holders} of ${targets} peers; the mesh key is unchanged, try again`,
      ROTATION_RETRY_SECONDS,
    );
    this.holders = holders;
    this.targets = targets;
  }
}
