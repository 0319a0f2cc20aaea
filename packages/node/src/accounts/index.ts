/**
 * UI accounts: users with scrypt passwords, sessions, login lockout with backoff, and the
 * first-run setup state. The cookies and CSRF checks that carry sessions over HTTP are the UI's
 * (ui/session-auth.ts).
 */
export {
  AccountService,
  hashSessionToken,
  type NewSession,
  SESSION_TTL_MS,
  SETUP_COMPLETE_KEY,
  type SetupState,
} from './account-service.js';
export { ConversationOwnerRepository } from './conversation-owner-repository.js';
export {
  ForbiddenError,
  InvalidAccountError,
  InvalidCredentialsError,
  LoginLockedError,
  SetupAlreadyDoneError,
} from './errors.js';
export { LoginThrottle } from './login-throttle.js';
export { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './password.js';
export { type SessionRecord, SessionRepository } from './session-repository.js';
export { type User, UserRepository, type UserRole } from './user-repository.js';
