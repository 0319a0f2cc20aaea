/**
 * The UI's cookie and session plumbing: the session and CSRF cookies, the double-submit check,
 * and the authenticator that turns a session cookie into a principal. HTTP only; the accounts
 * themselves are in accounts/.
 */
import { fastifyCookie } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type AccountService,
  type NewSession,
  SESSION_TTL_MS,
  sameToken,
} from '../accounts/account-service.js';
import type { Principal } from '../auth/api-tokens.js';
import { HttpError } from '../http/errors.js';
import type { Authenticator } from '../http/route-access.js';

/** The HttpOnly cookie holding the session secret. */
export const SESSION_COOKIE = 'allerac_session';
/** The script-readable cookie holding the CSRF token the UI echoes in X-CSRF-Token. */
export const CSRF_COOKIE = 'allerac_csrf';
/** The header that must carry the CSRF token on state-changing requests. */
export const CSRF_HEADER = 'x-csrf-token';

// Called as methods: they rely on `this`.
const parse = (header: string) => fastifyCookie.parse(header);
const serialize: typeof fastifyCookie.serialize = (name, value, options) =>
  fastifyCookie.serialize(name, value, options);

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

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The cookies of a request (parsed here so no plugin ordering is needed before the auth hook). */
export function requestCookies(request: FastifyRequest): Record<string, string | undefined> {
  const header = request.headers.cookie;
  return typeof header === 'string' ? parse(header) : {};
}

/** The session secret a request carries, if any. */
export const sessionTokenOf = (request: FastifyRequest) => requestCookies(request)[SESSION_COOKIE];

/**
 * Throws CsrfError unless a state-changing request echoes the session's CSRF token in the
 * X-CSRF-Token header (double submit: a cross-site page can send the cookie, never read it).
 */
export function checkCsrf(request: FastifyRequest, expected: string): void {
  if (SAFE_METHODS.has(request.method)) return;
  const sent = request.headers[CSRF_HEADER];
  const cookie = requestCookies(request)[CSRF_COOKIE];
  if (
    typeof sent !== 'string' ||
    !sameToken(sent, expected) ||
    cookie === undefined ||
    !sameToken(cookie, expected)
  )
    throw new CsrfError();
}

/** An Authenticator that recognises the UI's session cookie and enforces CSRF for it. */
export function createSessionAuthenticator(accounts: AccountService): Authenticator {
  return async (request): Promise<Principal | undefined> => {
    const token = sessionTokenOf(request);
    if (token === undefined) return undefined;
    const session = await accounts.session(token);
    if (session === undefined) return undefined;
    checkCsrf(request, session.csrfToken);
    return { kind: 'session', role: session.role, id: session.userId, name: session.username };
  };
}

/** Sets the session and CSRF cookies: HttpOnly + SameSite=Strict for the secret. */
export function setSessionCookies(reply: FastifyReply, session: NewSession): void {
  const maxAge = Math.floor(SESSION_TTL_MS / 1000);
  reply.header('Set-Cookie', [
    serialize(SESSION_COOKIE, session.token, { httpOnly: true, sameSite: 'strict', path: '/', maxAge }),
    serialize(CSRF_COOKIE, session.csrfToken, { sameSite: 'strict', path: '/', maxAge }),
  ]);
}

/** Expires both cookies. */
export function clearSessionCookies(reply: FastifyReply): void {
  reply.header('Set-Cookie', [
    serialize(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', path: '/', maxAge: 0 }),
    serialize(CSRF_COOKIE, '', { sameSite: 'strict', path: '/', maxAge: 0 }),
  ]);
}
