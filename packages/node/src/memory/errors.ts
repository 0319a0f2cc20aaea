import { HttpError } from '../http/errors.js';

/** No memory has that id. */
export class MemoryNotFoundError extends HttpError {
  override name = 'MemoryNotFoundError';
  constructor(id: string) {
    super(404, `no memory with id "${id.slice(0, 128)}"`, 'invalid_request_error', 'memory_not_found');
  }
}

/** The text is longer than the documented limit. */
export class MemoryTooLargeError extends HttpError {
  override name = 'MemoryTooLargeError';
  constructor(message: string) {
    super(413, message, 'invalid_request_error', 'memory_too_large');
  }
}

/** A memory cannot move that way (e.g. sharing one that is already in a space). */
export class MemoryStateError extends HttpError {
  override name = 'MemoryStateError';
  constructor(message: string) {
    super(409, message, 'invalid_request_error', 'memory_state');
  }
}

/** A member tried to change or share a memory someone else wrote. */
export class MemoryNotYoursError extends HttpError {
  override name = 'MemoryNotYoursError';
  constructor(id: string) {
    super(
      403,
      `memory "${id.slice(0, 128)}" was written by someone else; you can change and share only your own`,
      'permission_error',
      'memory_not_yours',
    );
  }
}
