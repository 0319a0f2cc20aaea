/**
 * The mesh's own error kinds. The mesh knows nothing of the node or of HTTP: each error declares
 * its `kind`, and whoever runs the mesh (the node's HTTP layer) maps the kind to a status.
 */

/** What kind of failure a mesh error is, which decides how a caller answers it. */
export type MeshErrorKind = 'invalid-input' | 'conflict' | 'unavailable' | 'upstream';

/** Options every mesh error takes. */
export interface MeshErrorOptions extends ErrorOptions {
  /** A stable machine-readable name of the failure, such as `invalid_join_code`. */
  code?: string | undefined;
  /** The input field at fault, when one is. */
  param?: string | undefined;
}

/** Base of every mesh error; the message says what to do about it. */
export class MeshError extends Error {
  override name = 'MeshError';
  readonly code: string | undefined;
  readonly param: string | undefined;
  constructor(
    readonly kind: MeshErrorKind,
    message: string,
    options: MeshErrorOptions = {},
  ) {
    super(message, options);
    this.code = options.code;
    this.param = options.param;
  }
}

/** The input (a code, a peer id) cannot be accepted as it is. */
export class MeshInputError extends MeshError {
  override name = 'MeshInputError';
  constructor(message: string, options: MeshErrorOptions = {}) {
    super('invalid-input', message, options);
  }
}

/** The request conflicts with the mesh's current state. */
export class MeshConflictError extends MeshError {
  override name = 'MeshConflictError';
  constructor(message: string, options: MeshErrorOptions = {}) {
    super('conflict', message, options);
  }
}

/** The mesh cannot do this right now; a retry after `retryAfterSeconds` may succeed. */
export class MeshUnavailableError extends MeshError {
  override name = 'MeshUnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options: MeshErrorOptions = {},
  ) {
    super('unavailable', message, options);
  }
}

/** Another node answered with a failure, or did not answer (not the caller's fault). */
export class MeshUpstreamError extends MeshError {
  override name = 'MeshUpstreamError';
  constructor(message: string, options: MeshErrorOptions = {}) {
    super('upstream', message, options);
  }
}
