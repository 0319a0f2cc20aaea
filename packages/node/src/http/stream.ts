import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Abort reason used when the HTTP client goes away mid-request. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
  constructor() {
    super('the client disconnected');
  }
}

/**
 * An AbortController that fires when the client's connection closes before the response is
 * complete, so the backend generation is cancelled instead of running on for nobody.
 */
export function abortOnClientClose(res: ServerResponse): AbortController {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new ClientGoneError());
  });
  return controller;
}

/**
 * Writes one piece, waiting for 'drain' when the socket buffer is full (backpressure). Pieces
 * written in the same turn of the event loop leave in one socket write: the socket stays corked
 * until the loop's check phase, so a backend read that carried several chunks costs one syscall
 * instead of one each (on loopback a send also runs the receiver's TCP path: the node's largest
 * cost per token). The socket, not the response, is corked: `res.end()` flushes a corked socket,
 * while it would drop what a corked response holds.
 */
export async function writeWithBackpressure(res: ServerResponse, data: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  const socket = res.socket;
  if (socket !== null && socket.writableCorked === 0) {
    socket.cork();
    setImmediate(uncork, socket);
  }
  if (res.write(data)) return true;
  await Promise.race([once(res, 'drain'), once(res, 'close')]);
  return !res.destroyed;
}

function uncork(socket: Socket): void {
  // end() may have uncorked it already; uncorking an uncorked socket is a no-op.
  socket.uncork();
}
