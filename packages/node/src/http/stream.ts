import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

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

/** Writes one piece, waiting for 'drain' when the socket buffer is full (backpressure). */
export async function writeWithBackpressure(res: ServerResponse, data: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (res.write(data)) return true;
  await Promise.race([once(res, 'drain'), once(res, 'close')]);
  return !res.destroyed;
}
