/** Typed errors of memory-sync: each kind of bad input has its own class. */

/** A space name, policy or memory that cannot be used; the message says why. */
export class InvalidSpaceInputError extends Error {
  override name = 'InvalidSpaceInputError';
}

/** The named space is not held by this node. */
export class UnknownSpaceError extends Error {
  override name = 'UnknownSpaceError';
  constructor(readonly space: string) {
    super(`unknown space "${space.slice(0, 128)}": create or join it first`);
  }
}

/** A space already exists under that name. */
export class SpaceExistsError extends Error {
  override name = 'SpaceExistsError';
  constructor(readonly space: string) {
    super(`space "${space}" already exists`);
  }
}

/** A peer sent a sync message that could not be decoded or applied; nothing was changed. */
export class MalformedSyncMessageError extends Error {
  override name = 'MalformedSyncMessageError';
}

/** A peer tried to sync a space whose policy does not name it. */
export class SyncNotAllowedError extends Error {
  override name = 'SyncNotAllowedError';
  constructor(
    readonly space: string,
    readonly peer: string,
  ) {
    super(`peer ${peer} may not sync space "${space}"`);
  }
}
