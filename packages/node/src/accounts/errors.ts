import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  RateLimitedError,
  UnauthenticatedError,
} from '../errors.js';

export { ForbiddenError };

/** The first-run setup was already done; it cannot be run twice. */
export class SetupAlreadyDoneError extends ConflictError {
  override name = 'SetupAlreadyDoneError';
  constructor(message = 'setup has already been completed on this node') {
    super(message, { code: 'setup_done' });
  }
}

/** The username or password is wrong (deliberately not saying which). */
export class InvalidCredentialsError extends UnauthenticatedError {
  override name = 'InvalidCredentialsError';
  constructor() {
    super('wrong username or password', { code: 'invalid_credentials' });
  }
}

/** Too many failed logins: wait before trying again. */
export class LoginLockedError extends RateLimitedError {
  override name = 'LoginLockedError';
  constructor(retryAfterSeconds: number) {
    super(`too many failed logins; try again in ${retryAfterSeconds} s`, retryAfterSeconds, {
      code: 'login_locked',
    });
  }
}

/** A username or password that cannot be accepted. */
export class InvalidAccountError extends InvalidInputError {
  override name = 'InvalidAccountError';
  constructor(message: string) {
    super(message, { code: 'invalid_account' });
  }
}
