import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/**
 * Open connections one client address may hold. Browsers open 6 per host, Open WebUI and SDKs a
 * pool of a few dozen; a client holding more is trickling requests to exhaust file descriptors.
 */
export const MAX_CONNECTIONS_PER_CLIENT = 64;

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
 * Caps connections per client address and in all (from the fd limit), so that slow or
 * abandoned connections cannot take every file descriptor the node needs to keep running.
 */
export function registerConnectionLimits(
  app: FastifyInstance,
  logger: Logger,
  perClient = MAX_CONNECTIONS_PER_CLIENT,
): void {
  const server = app.server;
  const fdLimit = openFileLimit();
  if (fdLimit !== undefined)
    server.maxConnections = Math.max(16, Math.floor(fdLimit * CONNECTION_SHARE_OF_FD_LIMIT));
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
