import { HttpError } from '../http/errors.js';

/** The first-run setup was already done; it cannot be run twice. */
export class SetupAlreadyDoneError extends HttpError {
  override name = 'SetupAlreadyDoneError';
  constructor(message = 'setup has already been completed on this node') {
    super(409, message, 'invalid_request_error', 'setup_done');
  }
}

/** The username or password is wrong (deliberately not saying which). */
export class InvalidCredentialsError extends HttpError {
  override name = 'InvalidCredentialsError';
  constructor() {
    super(401, 'wrong username or password', 'authentication_error', 'invalid_credentials');
  }
}

/** Too many failed logins: wait before trying again. */
export class LoginLockedError extends HttpError {
  override name = 'LoginLockedError';
  constructor(retryAfterSeconds: number) {
    super(
      429,
      `too many failed logins; try again in ${retryAfterSeconds} s`,
      'rate_limit_error',
      'login_locked',
      retryAfterSeconds,
    );
  }
}

/** A state-changing request with a session cookie lacked the matching CSRF token. */
export class CsrfError extends HttpError {
  override name = 'CsrfError';
  constructor() {
    super(
      403,
      'CSRF token missing or invalid: send the allerac_csrf cookie value in an X-CSRF-Token header',
      'permission_error',
      'csrf_failed',
    );
  }
}

/** The principal's role may not use this endpoint. */
export class ForbiddenError extends HttpError {
  override name = 'ForbiddenError';
  constructor(message = 'this needs an admin account') {
    super(403, message, 'permission_error', 'forbidden');
  }
}

/** A username or password that cannot be accepted. */
export class InvalidAccountError extends HttpError {
  override name = 'InvalidAccountError';
  constructor(message: string) {
    super(400, message, 'invalid_request_error', 'invalid_account');
  }
}
