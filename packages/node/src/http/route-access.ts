import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { isLoopback, type Principal, type TokenVerifier } from '../auth/api-tokens.js';
import { deviceKeyOf } from '../auth/device-url.js';
import { HttpError } from './errors.js';

/**
 * Who may call a route. Every route declares one beside it (`{ config: { access } }`), and the
 * decision is made from the route Fastify matched, never from the URL the client wrote: a URL
 * can be percent-encoded or absolute-form, a matched route cannot.
 *
 * - `public`: anyone, with no credential (health, the SPA's files, login and setup).
 * - `local-or-token`: a caller on this machine, or any credential (Ollama and OpenAI inference).
 * - `local-or-admin`: a caller on this machine, or an admin credential (model management).
 * - `signed-in`: a token or a session, of any role (the handler scopes what a member sees).
 * - `admin`: a token or a session of an admin.
 */
export type AccessPolicy = 'public' | 'local-or-token' | 'local-or-admin' | 'signed-in' | 'admin';

/** Every policy, for tests that walk the routes. */
export const ACCESS_POLICIES: readonly AccessPolicy[] = [
  'public',
  'local-or-token',
  'local-or-admin',
  'signed-in',
  'admin',
];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's access policy; required on every route (checked when the route is added). */
    access?: AccessPolicy;
  }
  interface FastifyRequest {
    /** Who made the request; set by the access hook on every non-public route. */
    principal?: Principal;
  }
}

/** Finds the principal of a request by some credential (a session cookie, say), or undefined. */
export type Authenticator = (request: FastifyRequest) => Promise<Principal | undefined>;

/** Thrown when a route is registered without an access policy: a programming error. */
export class MissingAccessPolicyError extends Error {
  override name = 'MissingAccessPolicyError';
  constructor(method: string | string[], url: string) {
    super(
      `route ${String(method)} ${url} declares no access policy; add { config: { access: ... } } beside it`,
    );
  }
}

/** The bearer token of a request, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

/** The policy of the route a request matched; undefined when it matched none (a 404). */
export function accessOf(request: FastifyRequest): AccessPolicy | undefined {
  if (request.routeOptions.url === undefined) return undefined;
  return request.routeOptions.config.access;
}

const ROUTES = new WeakMap<FastifyInstance, readonly RouteOptions[]>();

/** Every route of a server with its declared policy, for tests and the fuzzer that walk them all. */
export function declaredRoutes(
  app: FastifyInstance,
): Array<{ method: string; url: string; access: AccessPolicy }> {
  return (ROUTES.get(app) ?? []).flatMap((route) =>
    [route.method].flat().map((method) => ({
      method,
      url: route.url,
      access: route.config?.access as AccessPolicy,
    })),
  );
}

const LOCAL_PRINCIPAL: Principal = { kind: 'loopback', role: 'admin' };

const authenticationRequired = () =>
  new HttpError(
    401,
    'authentication required: send "Authorization: Bearer <token>" (create one with `allerac token`)',
    'authentication_error',
    'missing_api_key',
  );

const invalidDeviceKey = () =>
  new HttpError(
    401,
    'invalid, expired or revoked device key in the URL (/k/<key>); issue a new one under Settings, Devices and tokens',
    'authentication_error',
    'invalid_api_key',
  );

/** The routes a device key may open: the Ollama and OpenAI APIs and the root clients probe. */
const servedToDevices = (routeUrl: string | undefined): boolean =>
  routeUrl === '/' || routeUrl?.startsWith('/api/') === true || routeUrl?.startsWith('/v1/') === true;

const adminRequired = () =>
  new HttpError(
    403,
    'this needs an admin of this node; a member account cannot use it',
    'permission_error',
    'forbidden',
  );

/**
 * Enforces each route's declared policy. A route added without one makes `app.ready()` fail, so
 * no route can ship open by accident; a request that matches no route reaches only the 404
 * handler.
 */
export function registerRouteAccess(
  app: FastifyInstance,
  tokens: TokenVerifier,
  authenticators: readonly Authenticator[],
): void {
  // Checked once all routes exist, so that a plugin's own onRoute hook (see `asPublicRoutes`)
  // can declare the policy of routes it did not write.
  const routes: RouteOptions[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (route: RouteOptions) => {
    routes.push(route);
  });
  app.addHook('onReady', async () => {
    for (const route of routes) {
      const access = route.config?.access;
      if (access === undefined || !ACCESS_POLICIES.includes(access)) {
        throw new MissingAccessPolicyError(route.method, route.url);
      }
    }
  });

  app.addHook('onRequest', async (request) => {
    const access = accessOf(request);
    const deviceKey = deviceKeyOf(request.raw);
    if (deviceKey !== undefined) {
      const principal = await deviceAccess(request, tokens, deviceKey, access);
      if (principal !== undefined) request.principal = principal;
      return;
    }
    if (access === undefined || access === 'public') return;
    const local = isLoopback(request.socket.remoteAddress);
    const principal = await credentialOf(request, tokens, authenticators, access, local);
    if (principal === undefined) {
      if (local && (access === 'local-or-token' || access === 'local-or-admin')) {
        request.principal = LOCAL_PRINCIPAL;
        return;
      }
      throw authenticationRequired();
    }
    if ((access === 'admin' || access === 'local-or-admin') && principal.role !== 'admin') {
      throw adminRequired();
    }
    request.principal = principal;
  });
}

/**
 * The principal of a request that came under `/k/<key>`. The key is checked on every such
 * request, from loopback too and on public routes, so that a revoked key fails at once and
 * visibly; a bearer token beside it is not looked at.
 */
async function deviceAccess(
  request: FastifyRequest,
  tokens: TokenVerifier,
  key: string,
  access: AccessPolicy | undefined,
): Promise<Principal | undefined> {
  const principal = await tokens.verifyDeviceKey(key);
  if (principal === undefined) throw invalidDeviceKey();
  if (access === undefined) return undefined;
  // The rewrite serves only /, /api/* and /v1/* under a key; the matched route must agree.
  if (!servedToDevices(request.routeOptions.url) || access === 'signed-in' || access === 'admin')
    throw new HttpError(404, 'only the Ollama and OpenAI APIs are served under /k/<key>');
  if (access === 'local-or-admin' && principal.role !== 'admin')
    throw new HttpError(
      403,
      'this needs an admin of this node; issue a device key with the admin role for model management',
      'permission_error',
      'forbidden',
    );
  return principal;
}

async function credentialOf(
  request: FastifyRequest,
  tokens: TokenVerifier,
  authenticators: readonly Authenticator[],
  access: AccessPolicy,
  local: boolean,
): Promise<Principal | undefined> {
  const token = bearerToken(request);
  if (token !== undefined) {
    const principal = await tokens.verify(token);
    if (principal !== undefined) return principal;
    // Clients such as the OpenAI SDK always send some key; on this machine a key we do not know
    // is simply not needed where the route allows local callers.
    if (local && (access === 'local-or-token' || access === 'local-or-admin')) return undefined;
    throw new HttpError(
      401,
      'invalid, expired or revoked API token',
      'authentication_error',
      'invalid_api_key',
    );
  }
  for (const authenticate of authenticators) {
    const principal = await authenticate(request);
    if (principal !== undefined) return principal;
  }
  return undefined;
}

/**
 * Registers a third-party plugin whose routes are all public (static files, say) in a context
 * that declares that policy on each of them, since such plugins take no route config.
 */
export async function asPublicRoutes(
  app: FastifyInstance,
  register: (child: FastifyInstance) => Promise<void>,
): Promise<void> {
  await app.register(async (child) => {
    child.addHook('onRoute', (route: RouteOptions) => {
      route.config = { ...route.config, access: 'public' };
    });
    await register(child);
  });
}
