/**
 * One connection serves every caller of an embedded database, so a transaction must hold it from
 * BEGIN to COMMIT: statements from elsewhere wait, as PGlite's own transaction() makes them.
 */
export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` once every earlier holder has finished. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => {});
    return result;
  }
}
