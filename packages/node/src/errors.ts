/**
 * The node's domain errors: one class per kind of failure, carrying the data a caller acts on
 * (what was wrong, when to retry). Domain modules throw these or their subclasses; only the HTTP
 * layer (http/errors.ts) turns them into a status and the Ollama or OpenAI error shape, so no
 * domain module needs to know HTTP.
 */

/** Options every domain error takes. */
export interface DomainErrorOptions extends ErrorOptions {
  /** A stable machine-readable name of the failure, such as `model_not_found` (OpenAI's `code`). */
  code?: string | undefined;
}

/** Base of every domain error; the message says what to do about it. */
export class DomainError extends Error {
  override name = 'DomainError';
  /** A stable machine-readable name of the failure, when it has one. */
  readonly code: string | undefined;
  constructor(message: string, options: DomainErrorOptions = {}) {
    super(message, options);
    this.code = options.code;
  }
}

/** The input cannot be accepted as it is. */
export class InvalidInputError extends DomainError {
  override name = 'InvalidInputError';
  /** The field at fault (`allerac.policy`), when one is. */
  readonly param: string | undefined;
  constructor(message: string, options: DomainErrorOptions & { param?: string | undefined } = {}) {
    super(message, options);
    this.param = options.param;
  }
}

/** The caller did not prove who it is: credentials missing or wrong. */
export class UnauthenticatedError extends DomainError {
  override name = 'UnauthenticatedError';
}

/** The caller is known but may not do this. */
export class ForbiddenError extends DomainError {
  override name = 'ForbiddenError';
  constructor(message = 'this needs an admin account', options: DomainErrorOptions = {}) {
    super(message, { code: 'forbidden', ...options });
  }
}

/** What the request names does not exist (or, to this caller, may as well not). */
export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
}

/** The request conflicts with the current state (done already, taken, in the wrong state). */
export class ConflictError extends DomainError {
  override name = 'ConflictError';
}

/** The input is larger than the documented limit. */
export class TooLargeError extends DomainError {
  override name = 'TooLargeError';
}

/** Too many attempts: wait `retryAfterSeconds` before trying again. */
export class RateLimitedError extends DomainError {
  override name = 'RateLimitedError';
  constructor(
    message: string,
    /** Seconds after which a retry may succeed. */
    readonly retryAfterSeconds: number,
    options: DomainErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** Nothing can serve this right now; a retry after `retryAfterSeconds` may succeed. */
export class UnavailableError extends DomainError {
  override name = 'UnavailableError';
  constructor(
    message: string,
    /** Seconds after which a retry may succeed. */
    readonly retryAfterSeconds: number,
    options: DomainErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** The node, or a node it asked, answered with a failure of its own (not the caller's fault). */
export class UpstreamError extends DomainError {
  override name = 'UpstreamError';
}
