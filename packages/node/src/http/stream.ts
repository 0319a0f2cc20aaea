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

/** A turn's pieces are sent at once from this size on, so one turn never holds much in memory. */
const TURN_FLUSH_CHARS = 64 * 1024;

/**
 * A streamed response whose pieces of one turn of the event loop leave in one write: a backend
 * read that carried several chunks costs one `res.write` (one HTTP chunk, one syscall) instead of
 * one each. Per forwarded token, each write cost the node its own pass through the HTTP and stream
 * layers and, on loopback, a send that runs the receiver's TCP path (docs/benchmarks.md, #15).
 * Everything goes through the writer, so the pieces keep their order; `end` sends what is held.
 */
export class TurnWriter {
  private held = '';
  private scheduled = false;

  constructor(private readonly res: ServerResponse) {}

  /**
   * Holds `data` for this turn's write. True while the client is there; waits for 'drain' first
   * when the socket's buffer is full (backpressure), false once the client is gone.
   */
  write(data: string): boolean | Promise<boolean> {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return false;
    this.held += data;
    if (this.held.length >= TURN_FLUSH_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushAtCheck);
    }
    if (!res.writableNeedDrain) return true;
    return drained(res);
  }

  /** Ends the response with what is held and `last`. */
  end(last = ''): void {
    const data = this.held + last;
    this.held = '';
    if (!this.res.destroyed) this.res.end(data === '' ? undefined : data);
  }

  private readonly flushAtCheck = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private flush(): void {
    const data = this.held;
    this.held = '';
    if (data !== '' && !this.res.destroyed && !this.res.writableEnded) this.res.write(data);
  }
}

/**
 * Resolves once `res` drained (true) or closed (false), taking both listeners off again: a wait
 * per full buffer must not leave a listener behind for the rest of a long answer.
 */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = () => {
      res.off('drain', settle);
      res.off('close', settle);
      resolve(!res.destroyed);
    };
    res.on('drain', settle);
    res.on('close', settle);
  });
}
