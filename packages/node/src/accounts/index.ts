/**
 * UI accounts: users with scrypt passwords, sessions in HttpOnly SameSite=Strict cookies, CSRF
 * double-submit tokens, login lockout with backoff, and the first-run setup state.
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
  CsrfError,
  ForbiddenError,
  InvalidAccountError,
  InvalidCredentialsError,
  LoginLockedError,
  SetupAlreadyDoneError,
} from './errors.js';
export { LoginThrottle } from './login-throttle.js';
export { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './password.js';
export {
  CSRF_COOKIE,
  CSRF_HEADER,
  checkCsrf,
  clearSessionCookies,
  createSessionAuthenticator,
  SESSION_COOKIE,
  sessionTokenOf,
  setSessionCookies,
} from './session-auth.js';
export { type SessionRecord, SessionRepository } from './session-repository.js';
export { type User, UserRepository, type UserRole } from './user-repository.js';
