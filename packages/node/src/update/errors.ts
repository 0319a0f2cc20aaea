/** Base class of update failures; the message says what to do. */
export class UpdateError extends Error {
  override name = 'UpdateError';
}

/** Update checks are off (the default): nothing leaves the home unless the user allows it. */
export class UpdatesDisabledError extends UpdateError {
  override name = 'UpdatesDisabledError';
}

/** A downloaded release does not match its published checksum. */
export class UpdateIntegrityError extends UpdateError {
  override name = 'UpdateIntegrityError';
}

/** The new version failed its health check and the previous one was put back. */
export class UpdateRolledBackError extends UpdateError {
  override name = 'UpdateRolledBackError';
}

/** This is not a native install with versioned directories (Docker, or a checkout). */
export class NotAnInstallError extends UpdateError {
  override name = 'NotAnInstallError';
}
