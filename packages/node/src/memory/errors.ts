import { ConflictError, ForbiddenError, NotFoundError, TooLargeError } from '../errors.js';

/** No memory has that id. */
export class MemoryNotFoundError extends NotFoundError {
  override name = 'MemoryNotFoundError';
  constructor(readonly id: string) {
    super(`no memory with id "${id.slice(0, 128)}"`, { code: 'memory_not_found' });
  }
}

/** The text is longer than the documented limit. */
export class MemoryTooLargeError extends TooLargeError {
  override name = 'MemoryTooLargeError';
  constructor(message: string) {
    super(message, { code: 'memory_too_large' });
  }
}

/** A memory cannot move that way (e.g. sharing one that is already in a space). */
export class MemoryStateError extends ConflictError {
  override name = 'MemoryStateError';
  constructor(message: string) {
    super(message, { code: 'memory_state' });
  }
}

/** A member tried to change or share a memory someone else wrote. */
export class MemoryNotYoursError extends ForbiddenError {
  override name = 'MemoryNotYoursError';
  constructor(readonly id: string) {
    super(
      `memory "${id.slice(0, 128)}" was written by someone else; you can change and share only your own`,
      {
        code: 'memory_not_yours',
      },
    );
  }
}

/** No peer offers a space of that name to this node (or this node holds it already). */
export class InvitationNotFoundError extends NotFoundError {
  override name = 'InvitationNotFoundError';
  constructor(readonly space: string) {
    super(`no peer offers a space named "${space.slice(0, 128)}" to join`, { code: 'invitation_not_found' });
  }
}
