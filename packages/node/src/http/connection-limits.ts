import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/**
 * Most connections one client address may hold. Browsers open 6 per host, SDKs and Open WebUI
 * pools of a few dozen, and a benchmark or a busy Open WebUI behind one address may hold a
 * hundred streams; a client holding more is trickling requests to exhaust file descriptors.
 */
export const MAX_CONNECTIONS_PER_CLIENT = 256;
/** Fewest connections one client address may hold, however low the descriptor limit. */
const MIN_CONNECTIONS_PER_CLIENT = 16;

/** Share of the process's file-descriptor limit that HTTP connections may take; the rest is the database's, the mesh's and the logs'. */
const CONNECTION_SHARE_OF_FD_LIMIT = 0.5;

/** The soft limit on open files of this process (Linux), or undefined where it cannot be read. */
export function openFileLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    const value = Number(soft);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The caps for a descriptor limit: HTTP connections in all take half of it, and one client a
 * quarter of those, so one client can never take the rest from everyone else.
 */
export function connectionCaps(fdLimit: number | undefined): {
  total: number | undefined;
  perClient: number;
} {
  if (fdLimit === undefined) return { total: undefined, perClient: MAX_CONNECTIONS_PER_CLIENT };
  const total = Math.max(4 * MIN_CONNECTIONS_PER_CLIENT, Math.floor(fdLimit * CONNECTION_SHARE_OF_FD_LIMIT));
  const perClient = Math.min(
    MAX_CONNECTIONS_PER_CLIENT,
    Math.max(MIN_CONNECTIONS_PER_CLIENT, Math.floor(total / 4)),
  );
  return { total, perClient };
}

/**
 * Caps connections per client address and in all (from the fd limit), so that slow or
 * abandoned connections cannot take every file descriptor the node needs to keep running.
 */
export function registerConnectionLimits(app: FastifyInstance, logger: Logger): void {
  const server = app.server;
  const { total, perClient } = connectionCaps(openFileLimit());
  if (total !== undefined) server.maxConnections = total;
  const open = new Map<string, number>();
  let refusedSinceLog = 0;
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > perClient) {
      refusedSinceLog += 1;
      // One line per burst, not one per refused socket.
      if (refusedSinceLog === 1)
        logger.warn({ client: address, perClient }, 'too many connections from one client; refusing more');
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
      if (open.size === 0 || left < perClient) refusedSinceLog = 0;
    });
  });
  // Accepting can fail when descriptors run out; the server keeps listening and retries.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EMFILE' || error.code === 'ENFILE') {
      logger.error({ code: error.code }, 'out of file descriptors; refusing connections until some close');
    }
  });
}
