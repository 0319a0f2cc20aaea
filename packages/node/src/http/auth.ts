import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLoopback, type Principal, type TokenVerifier } from '../auth/api-tokens.js';
import { HttpError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request; set by the auth hook for protected routes. */
    principal?: Principal;
  }
}

/** Finds the principal of a request by some credential (a session cookie, say), or undefined. */
export type Authenticator = (request: FastifyRequest) => Promise<Principal | undefined>;

/** Which credentials a URL needs. */
export function accessRuleFor(url: string): 'open' | 'loopback-or-token' | 'credential' {
  if (url.startsWith('/api/') || url.startsWith('/v1/') || url === '/api' || url === '/v1')
    return 'loopback-or-token';
  if (url.startsWith('/allerac/')) return 'credential';
  return 'open';
}

/** The bearer token of a request, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

/**
 * Enforces the interface contract: loopback callers of /api and /v1 need nothing; other callers
 * send `Authorization: Bearer <token>`; /allerac/* always takes a token or another credential
 * that an extra authenticator (the UI's session) recognises.
 */
export function registerAuth(
  app: FastifyInstance,
  tokens: TokenVerifier,
  extra: readonly Authenticator[],
): void {
  app.addHook('onRequest', async (request) => {
    const rule = accessRuleFor(request.url);
    if (rule === 'open') return;
    const token = bearerToken(request);
    if (token !== undefined) {
      const principal = await tokens.verify(token);
      // Clients such as the OpenAI SDK always send some key; on loopback a key we do not know is
      // simply not needed.
      if (
        principal === undefined &&
        rule === 'loopback-or-token' &&
        isLoopback(request.socket.remoteAddress)
      ) {
        request.principal = { kind: 'loopback', role: 'admin' };
        return;
      }
      if (principal === undefined) {
        throw new HttpError(401, 'invalid or revoked API token', 'authentication_error', 'invalid_api_key');
      }
      request.principal = principal;
      return;
    }
    for (const authenticate of extra) {
      const principal = await authenticate(request);
      if (principal !== undefined) {
        request.principal = principal;
        return;
      }
    }
    if (rule === 'loopback-or-token' && isLoopback(request.socket.remoteAddress)) {
      request.principal = { kind: 'loopback', role: 'admin' };
      return;
    }
    throw new HttpError(
      401,
      'authentication required: send "Authorization: Bearer <token>" (create one with `allerac token`)',
      'authentication_error',
      'missing_api_key',
    );
  });
}
