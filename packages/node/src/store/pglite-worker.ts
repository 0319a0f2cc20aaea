/**
 * PGlite on disk runs in a worker thread. When a commit cannot write PostgreSQL's log (a full
 * disk), PGlite spins inside the WebAssembly instead of raising an error; in the main thread that
 * would freeze the whole node, `/health` included. In a worker only the database stops, and the
 * supervisor (pglite-database.ts) can terminate the worker and open the cluster again.
 */
import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from './sql.js';

/** The worker's side, as plain JavaScript: it must run from `src/` under vitest and from `dist/`. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const FIELDS = ['code', 'severity', 'detail', 'hint', 'position', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine'];
const describe = (error) => {
  const out = { name: error && error.name, message: String((error && error.message) || error) };
  for (const key of FIELDS) if (error && error[key] !== undefined) out[key] = error[key];
  return out;
};
(async () => {
  let db;
  try {
    const { PGlite } = await import(workerData.pglite);
    const { vector } = await import(workerData.vector);
    db = await PGlite.create({ dataDir: workerData.dataDir, extensions: { vector }, postgresqlconf: workerData.config });
  } catch (error) {
    parentPort.postMessage({ type: 'failed', error: describe(error) });
    return;
  }
  parentPort.on('message', async (request) => {
    try {
      if (request.op === 'query') {
        const result = await db.query(request.text, request.params);
        parentPort.postMessage({ id: request.id, rows: result.rows });
      } else if (request.op === 'exec') {
        await db.exec(request.text);
        parentPort.postMessage({ id: request.id });
      } else {
        await db.close();
        parentPort.postMessage({ id: request.id });
        parentPort.close();
      }
    } catch (error) {
      parentPort.postMessage({ id: request.id, error: describe(error) });
    }
  });
  parentPort.postMessage({ type: 'ready' });
})();
`;

type WorkerReply =
  | { type: 'ready' }
  | { type: 'failed'; error: Record<string, unknown> }
  | { id: number; rows?: unknown[]; error?: Record<string, unknown> };

/** An error as PGlite raised it inside the worker: its message and SQLSTATE fields. */
function revive(fields: Record<string, unknown>): Error {
  const error = new Error(String(fields.message ?? 'unknown database error'));
  for (const [key, value] of Object.entries(fields)) {
    if (key !== 'message') Object.defineProperty(error, key, { value, enumerable: key !== 'name' });
  }
  return error;
}

/** A PGlite cluster served by a worker thread. */
export class PgliteWorker {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }
  >();
  private gone: Error | undefined;
  /** Resolves when the worker thread has ended, for whatever reason. */
  readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (reply: WorkerReply) => {
      if (!('id' in reply)) return;
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error !== undefined) waiter?.reject(revive(reply.error));
      else waiter?.resolve(reply.rows ?? []);
    });
    const fail = (error: Error) => {
      this.gone ??= error;
      for (const waiter of this.pending.values()) waiter.reject(this.gone);
      this.pending.clear();
    };
    worker.on('error', (cause) =>
      fail(new StoreUnavailableError(`the embedded database failed: ${cause.message}`, { cause })),
    );
    worker.on('exit', () => fail(new StoreUnavailableError('the embedded database has stopped')));
  }

  /** Starts a worker on the cluster in `dataDir` (which must exist) and waits until it serves. */
  static async start(dataDir: string, config: readonly string[]): Promise<PgliteWorker> {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // PGlite's data lives in WebAssembly memory; the thread's own JS heap holds little more than
      // results in transit. A small young generation keeps ~30 MiB of idle heap out of the node.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
      workerData: {
        dataDir,
        config: [...config],
        pglite: import.meta.resolve('@electric-sql/pglite'),
        vector: import.meta.resolve('@electric-sql/pglite-pgvector'),
      },
    });
    const first = await new Promise<WorkerReply | Error>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', resolve);
      worker.once('exit', (code) => resolve(new Error(`the database worker exited with code ${code}`)));
    });
    if (first instanceof Error || !('type' in first) || first.type !== 'ready') {
      await worker.terminate();
      const cause = first instanceof Error ? first : 'error' in first ? revive(first.error ?? {}) : undefined;
      throw new StoreUnavailableError(`cannot open the embedded database in ${dataDir}: ${cause?.message}`, {
        cause,
      });
    }
    return new PgliteWorker(worker);
  }

  /** Whether the worker still runs. */
  get alive(): boolean {
    return this.gone === undefined;
  }

  /** Runs one parameterised statement. */
  query<Row>(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.send({ op: 'query', text, params: [...params] }) as Promise<Row[]>;
  }

  /** Runs statements separated by semicolons. */
  async exec(text: string): Promise<void> {
    await this.send({ op: 'exec', text });
  }

  /** Closes PGlite cleanly (a checkpoint) and ends the thread. */
  async close(): Promise<void> {
    if (this.gone === undefined) await this.send({ op: 'close' }).catch(() => {});
    await this.terminate();
  }

  /** Ends the thread at once, whatever it is doing; the cluster recovers from its log on the next open. */
  async terminate(): Promise<void> {
    this.gone ??= new StoreUnavailableError('the embedded database has been stopped');
    await this.worker.terminate();
    await this.exited;
  }

  private send(request: { op: string; text?: string; params?: unknown[] }): Promise<unknown[]> {
    if (this.gone !== undefined) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...request });
    });
  }
}
