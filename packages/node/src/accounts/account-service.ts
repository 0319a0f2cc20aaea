import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readSetting, type SettingKey, writeSetting } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import {
  InvalidAccountError,
  InvalidCredentialsError,
  LoginLockedError,
  SetupAlreadyDoneError,
} from './errors.js';
import { LoginThrottle } from './login-throttle.js';
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './password.js';
import type { SessionRecord, SessionRepository } from './session-repository.js';
import type { User, UserRepository, UserRole } from './user-repository.js';

/** A session lives this long after its last use. */
export const SESSION_TTL_MS = 14 * 24 * 60 * 60_000;
/** Expiry is pushed forward at most this often, to avoid a write on every request. */
const SESSION_SLIDE_MS = 60 * 60_000;
/** The settings key that marks the first-run wizard as finished. */
export const SETUP_COMPLETE_KEY = 'setup.completedAt' satisfies SettingKey;

/** Where the first-run setup stands. */
export interface SetupState {
  /** An admin account exists. */
  adminCreated: boolean;
  /** The wizard was finished. */
  complete: boolean;
}

/** A freshly opened session: the secrets go into cookies, never into storage. */
export interface NewSession {
  token: string;
  csrfToken: string;
  user: User;
  expiresAt: Date;
}

/** SHA-256 of a session secret: it is long and random, so a fast hash suffices. */
export const hashSessionToken = (token: string) => createHash('sha256').update(token).digest('hex');

const USERNAME = /^[\p{L}\p{N}._@-]{1,64}$/u;

/** Accounts, passwords, sessions and the first-run setup state. */
export class AccountService {
  private readonly throttle: LoginThrottle;
  // scrypt of a throwaway password, so unknown usernames cost as much time as known ones.
  private readonly dummyHash = hashPassword(randomUUID());

  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly settings: SettingsRepository,
    options: { now?: () => number } = {},
  ) {
    this.throttle = new LoginThrottle(options.now);
  }

  /** Where setup stands. */
  async setupState(): Promise<SetupState> {
    const [admins, completedAt] = await Promise.all([
      this.users.countAdmins(),
      readSetting(this.settings, SETUP_COMPLETE_KEY),
    ]);
    return { adminCreated: admins > 0, complete: completedAt !== undefined };
  }

  /** Creates the first admin; throws SetupAlreadyDoneError when one exists already. */
  async createFirstAdmin(username: string, password: string, language = 'en'): Promise<User> {
    const clean = validateAccount(username, password);
    const id = randomUUID();
    const created = await this.users.insertFirstAdmin({
      id,
      username: clean,
      passwordHash: await hashPassword(password),
      language,
    });
    if (!created) throw new SetupAlreadyDoneError('an admin account already exists; log in instead');
    return (await this.users.get(id))!;
  }

  /** Marks setup finished; throws SetupAlreadyDoneError the second time. */
  async completeSetup(): Promise<void> {
    if ((await readSetting(this.settings, SETUP_COMPLETE_KEY)) !== undefined)
      throw new SetupAlreadyDoneError();
    await writeSetting(this.settings, SETUP_COMPLETE_KEY, new Date().toISOString());
  }

  /** Creates another account (an admin's action). */
  async createUser(username: string, password: string, role: UserRole, language = 'en'): Promise<User> {
    const clean = validateAccount(username, password);
    if ((await this.users.findWithHash(clean)) !== undefined)
      throw new InvalidAccountError(`the username "${clean}" is taken`);
    const id = randomUUID();
    await this.users.insert({
      id,
      username: clean,
      passwordHash: await hashPassword(password),
      role,
      language,
    });
    return (await this.users.get(id))!;
  }

  /** Checks a password and opens a session; failures count towards the lockout. */
  async login(username: string, password: string, client: string): Promise<NewSession> {
    const keys = [`user:${username.trim().toLowerCase()}`, `client:${client}`];
    const wait = this.throttle.retryAfterMs(keys);
    if (wait > 0) throw new LoginLockedError(Math.ceil(wait / 1000));
    // A name no account can have is not looked up (PostgreSQL refuses a NUL even in a query).
    const found = USERNAME.test(username.trim()) ? await this.users.findWithHash(username.trim()) : undefined;
    const ok = await verifyPassword(password, found?.passwordHash ?? (await this.dummyHash));
    if (found === undefined || !ok) {
      this.throttle.fail(keys);
      throw new InvalidCredentialsError();
    }
    this.throttle.succeed(keys);
    const { passwordHash: _hash, ...user } = found;
    return this.openSession(user);
  }

  /** Opens a session for a user (after login, or right after setup creates the admin). */
  async openSession(user: User): Promise<NewSession> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await this.sessions.insert({ idHash: hashSessionToken(token), userId: user.id, csrfToken, expiresAt });
    if (Math.random() < 0.05) void this.sessions.prune().catch(() => {});
    return { token, csrfToken, user, expiresAt };
  }

  /** The live session for a cookie value, sliding its expiry; undefined when unknown or expired. */
  async session(token: string): Promise<SessionRecord | undefined> {
    if (token.length < 16 || token.length > 128) return undefined;
    const idHash = hashSessionToken(token);
    const found = await this.sessions.find(idHash);
    if (found === undefined) return undefined;
    if (found.expiresAt.getTime() - Date.now() < SESSION_TTL_MS - SESSION_SLIDE_MS) {
      return this.sessions.find(idHash, new Date(Date.now() + SESSION_TTL_MS));
    }
    return found;
  }

  /** Ends a session. */
  async logout(token: string): Promise<void> {
    await this.sessions.delete(hashSessionToken(token));
  }

  /** Changes a password after checking the current one, and ends the user's other sessions. */
  async changePassword(userId: string, current: string, next: string): Promise<void> {
    const user = await this.users.get(userId);
    const found = user === undefined ? undefined : await this.users.findWithHash(user.username);
    if (found === undefined || !(await verifyPassword(current, found.passwordHash)))
      throw new InvalidCredentialsError();
    validateAccount(found.username, next);
    await this.users.setPasswordHash(userId, await hashPassword(next));
    await this.sessions.deleteForUser(userId);
  }

  /**
   * Sets a password without the current one (a forgotten password, reset by an admin or from the
   * machine itself) and ends every session of the account. Returns undefined when no account has
   * this id.
   */
  async resetPassword(userId: string, password: string): Promise<User | undefined> {
    const user = await this.users.get(userId);
    if (user === undefined) return undefined;
    validateAccount(user.username, password);
    await this.users.setPasswordHash(userId, await hashPassword(password));
    await this.sessions.deleteForUser(userId);
    return user;
  }

  /** The account with this username (any case). */
  async findUser(username: string): Promise<User | undefined> {
    if (!USERNAME.test(username.trim())) return undefined;
    const found = await this.users.findWithHash(username.trim());
    if (found === undefined) return undefined;
    const { passwordHash: _hash, ...user } = found;
    return user;
  }

  /** Every account. */
  listUsers(): Promise<User[]> {
    return this.users.list();
  }

  /** Removes an account; the last admin cannot be removed. */
  async deleteUser(id: string): Promise<boolean> {
    if (id.includes('\u0000')) return false;
    const user = await this.users.get(id);
    if (user === undefined) return false;
    if (user.role === 'admin' && (await this.users.countAdmins()) <= 1)
      throw new InvalidAccountError('the last admin account cannot be removed');
    return this.users.delete(id);
  }

  /** Sets the language a user sees the UI in. */
  setLanguage(userId: string, language: string): Promise<void> {
    return this.users.setLanguage(userId, language);
  }
}

/** Constant-time comparison of two CSRF tokens. */
export function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function validateAccount(username: string, password: string): string {
  const clean = username.trim();
  if (!USERNAME.test(clean))
    throw new InvalidAccountError('a username is 1-64 letters, digits or . _ @ - (no spaces)');
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new InvalidAccountError(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > 1024) throw new InvalidAccountError('a password may have at most 1024 characters');
  return clean;
}
