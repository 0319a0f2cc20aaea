import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError } from '../accounts/errors.js';

/** Management endpoints a member may use: chat history and their own memories. */
const MEMBER_ALLERAC_PREFIXES = ['/allerac/v1/me', '/allerac/v1/conversations', '/allerac/v1/memories'];
/** Ollama endpoints that change what is installed: admin only. */
const ADMIN_OLLAMA_PATHS = [
  '/api/pull',
  '/api/delete',
  '/api/create',
  '/api/copy',
  '/api/push',
  '/api/blobs',
];

/** Whether a member may make this request. */
export function memberMayUse(method: string, url: string): boolean {
  const path = url.split('?')[0]!;
  if (path.startsWith('/allerac/')) {
    if (method === 'GET' && path === '/allerac/v1/spaces') return true;
    return MEMBER_ALLERAC_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  }
  if (path.startsWith('/api/')) return !ADMIN_OLLAMA_PATHS.some((prefix) => path.startsWith(prefix));
  return true;
}

/** Throws ForbiddenError unless the request's principal is an admin. */
export function requireAdmin(request: FastifyRequest): void {
  if (request.principal?.role !== 'admin') throw new ForbiddenError();
}

/**
 * The member role, enforced on the API for every route (including those other modules add):
 * members chat and keep their own memories; everything else needs an admin. Runs after the auth
 * hook, which has set `request.principal`.
 */
export function registerAccessPolicy(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (request.principal?.role !== 'member') return;
    if (!memberMayUse(request.method, request.url)) {
      throw new ForbiddenError('a member account cannot use this; ask an admin of this node');
    }
  });
}
