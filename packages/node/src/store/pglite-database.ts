import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import { DISK_RESERVE_BYTES, freeBytes, mebibytes, WAL_SEGMENT_BYTES } from './disk-space.js';
import { PRIVATE_DIR_MODE, restrictTree } from './file-modes.js';
import { PgliteWorker } from './pglite-worker.js';
import { SerialLock } from './serial-lock.js';
import { type Database, type SqlTransaction, StoreUnavailableError } from './sql.js';
import {
  describeStoreError,
  isDurableStoreError,
  StoreDiskFullError,
  type StoreHealth,
  StoreHealthTracker,
} from './store-health.js';

/**
 * PostgreSQL settings for a small appliance: the default shared buffers would hold hundreds of MB
 * of WASM memory on a mini-PC; the OS page cache serves the rest.
 */
export const PGLITE_CONFIG = ['shared_buffers=16MB'];

/**
 * A pristine cluster made at build time (`npm run build`) by this same PGlite version. A new node
 * copies it instead of running initdb: a file copy takes milliseconds where initdb takes seconds.
 */
export const CLUSTER_TEMPLATE_DIR = fileURLToPath(new URL('../../cluster-template', import.meta.url));

/** How the on-disk store watches over PGlite; the defaults suit a node, tests shorten the times. */
export interface PgliteSupervision {
  /** Free bytes below which statements are refused (StoreDiskFullError). */
  reserveBytes?: number;
  /** A statement still running this long while the disk could not take a log segment is a hang. */
  wedgeAfterMs?: number;
  /** How often a degraded store tries to serve again. */
  retryMs?: number;
}

const DEFAULT_SUPERVISION: Required<PgliteSupervision> = {
  reserveBytes: DISK_RESERVE_BYTES,
  wedgeAfterMs: 5_000,
  retryMs: 2_000,
};

/**
 * Creates the database cluster (initdb) in a short-lived child process. initdb's WASM memory
 * would otherwise stay in the node's resident set for its whole life.
 */
export async function initializeCluster(dir: string): Promise<void> {
  const script = `
    const { PGlite } = await import(${JSON.stringify(import.meta.resolve('@electric-sql/pglite'))});
    const { vector } = await import(${JSON.stringify(import.meta.resolve('@electric-sql/pglite-pgvector'))});
    const db = await PGlite.create({ dataDir: process.argv[1], extensions: { vector }, postgresqlconf: ${JSON.stringify(PGLITE_CONFIG)} });
    await db.close();`;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, dir], {
    timeout: 120_000,
  });
}

/**
 * Opens embedded PGlite (with pgvector) in `dir`, or in memory when `dir` is undefined. On disk
 * it runs supervised in a worker thread: a full disk or a hung commit turns the store `degraded`,
 * and it serves again by itself once there is space, without a restart of the node.
 */
export async function openPgliteDatabase(
  dir: string | undefined,
  supervision: PgliteSupervision = {},
): Promise<Database> {
  if (dir === undefined) return openInMemory();
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      if (existsSync(join(CLUSTER_TEMPLATE_DIR, 'PG_VERSION')))
        cpSync(CLUSTER_TEMPLATE_DIR, dir, { recursive: true });
      else await initializeCluster(dir);
    }
    restrictTree(dir);
  } catch (cause) {
    throw unavailable(dir, cause);
  }
  const db = new SupervisedPglite(dir, { ...DEFAULT_SUPERVISION, ...supervision });
  await db.open();
  return db;
}

function unavailable(dir: string, cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError(
    `cannot open the embedded database in ${dir}: ${(cause as Error).message}; ` +
      'check that the data dir is writable and not used by another allerac process',
    { cause },
  );
}

async function openInMemory(): Promise<Database> {
  let db: PGlite;
  try {
    // Loaded here only: a node's own database runs in the worker, and the main thread need not hold PGlite.
    const { PGlite } = await import('@electric-sql/pglite');
    const { vector } = await import('@electric-sql/pglite-pgvector');
    db = await PGlite.create({ extensions: { vector }, postgresqlconf: PGLITE_CONFIG });
  } catch (cause) {
    throw unavailable('memory', cause);
  }
  const tracker = new StoreHealthTracker();
  let closed = false;
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): SqlTransaction => ({
    query: <Row>(text: string, params: readonly unknown[] = []) =>
      tracker.track(async () => (await q.query<Row>(text, params as unknown[])).rows),
    exec: (text: string) => tracker.track(async () => void (await q.exec(text))),
  });
  const self = wrap(db);
  return {
    kind: 'pglite',
    location: 'memory://',
    query: self.query,
    exec: self.exec,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    health: () => tracker.get(),
    onHealthChange: (listener) => tracker.onChange(listener),
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}

/** How long a clean close may take before the worker is stopped outright. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * PGlite on disk, in a worker, behind one lock (a transaction holds the single connection). A
 * durable failure, or a statement hung while the disk is full, stops the worker; the store is
 * then degraded and reopens the cluster (crash recovery from the log) once there is space.
 */
class SupervisedPglite implements Database {
  readonly kind = 'pglite';
  readonly location: string;
  private worker: PgliteWorker | undefined;
  private opening: Promise<PgliteWorker> | undefined;
  private lastFailedOpen = 0;
  private readonly lock = new SerialLock();
  private readonly tracker = new StoreHealthTracker();
  private recovery: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly supervision: Required<PgliteSupervision>,
  ) {
    this.location = dir;
  }

  /** Starts the first worker; a failure here is the caller's to report (the node does not start). */
  async open(): Promise<void> {
    try {
      this.worker = await PgliteWorker.start(this.dir, PGLITE_CONFIG);
    } catch (cause) {
      throw unavailable(this.dir, (cause as Error).cause ?? cause);
    }
    // PGlite writes a few files (its relation caches) with its own modes as it opens.
    restrictTree(this.dir);
  }

  /** Also looks at the disk, so an idle node reports a full disk before a write fails on it. */
  health(): StoreHealth {
    if (!this.closed && this.tracker.get().state === 'ok') {
      const free = freeBytes(this.dir);
      if (free !== undefined && free < this.supervision.reserveBytes) {
        this.tracker.degraded(this.diskFullMessage(free));
        this.startRecovery();
      }
    }
    return this.tracker.get();
  }

  onHealthChange(listener: (health: StoreHealth) => void): () => void {
    return this.tracker.onChange(listener);
  }

  query<Row = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.serially(async () => this.statement(await this.ready(), (w) => w.query<Row>(text, params)));
  }

  exec(text: string): Promise<void> {
    return this.serially(async () => this.statement(await this.ready(), (w) => w.exec(text)));
  }

  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.serially(async () => {
      const worker = await this.ready();
      await this.statement(worker, (w) => w.exec('BEGIN'));
      const tx: SqlTransaction = {
        query: <Row>(text: string, params: readonly unknown[] = []) =>
          this.statement(worker, (w) => w.query<Row>(text, params)),
        exec: (text: string) => this.statement(worker, (w) => w.exec(text)),
      };
      try {
        const result = await fn(tx);
        await this.statement(worker, (w) => w.exec('COMMIT'));
        return result;
      } catch (error) {
        // A stopped worker took the open transaction with it; a live one must end it.
        if (worker === this.worker && worker.alive)
          await this.statement(worker, (w) => w.exec('ROLLBACK')).catch(() => {});
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.recovery);
    this.recovery = undefined;
    await this.lock.run(async () => {
      await this.opening?.catch(() => {});
      const worker = this.worker;
      this.worker = undefined;
      if (worker === undefined) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        worker.close(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      await worker.terminate();
    });
  }

  /** Statements issued before close() still run; later ones are refused. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    return this.lock.run(fn);
  }

  /** The worker to run the next statement on, after the disk check; reopens a stopped one. */
  private async ready(): Promise<PgliteWorker> {
    if (this.closed && !this.worker?.alive) throw new StoreUnavailableError('the store is closed');
    this.checkDisk();
    if (this.worker?.alive) return this.worker;
    return this.reopen();
  }

  private diskFullMessage(free: number): string {
    return (
      `the disk holding ${this.dir} has ${mebibytes(free)} free, less than the ` +
      `${mebibytes(this.supervision.reserveBytes)} the database needs to write safely; ` +
      'free some space (old backups, unused models) and the node recovers by itself'
    );
  }

  private checkDisk(): void {
    const free = freeBytes(this.dir);
    if (free === undefined || free >= this.supervision.reserveBytes) return;
    const error = new StoreDiskFullError(this.diskFullMessage(free));
    this.tracker.degraded(error.message);
    this.startRecovery();
    throw error;
  }

  private reopen(): Promise<PgliteWorker> {
    if (this.opening !== undefined) return this.opening;
    const reason = this.tracker.get().reason ?? 'the embedded database is restarting';
    if (Date.now() - this.lastFailedOpen < this.supervision.retryMs / 2) {
      return Promise.reject(new StoreUnavailableError(reason));
    }
    this.opening = PgliteWorker.start(this.dir, PGLITE_CONFIG).then(
      (worker) => {
        this.opening = undefined;
        if (this.closed) {
          void worker.terminate();
          throw new StoreUnavailableError('the store is closed');
        }
        this.worker = worker;
        restrictTree(this.dir);
        return worker;
      },
      (error: unknown) => {
        this.opening = undefined;
        this.lastFailedOpen = Date.now();
        this.tracker.degraded(describeStoreError(error));
        this.startRecovery();
        throw error;
      },
    );
    return this.opening;
  }

  /** Runs one statement on `worker` under the hang watchdog; a durable failure stops the worker. */
  private async statement<T>(worker: PgliteWorker, run: (worker: PgliteWorker) => Promise<T>): Promise<T> {
    if (worker !== this.worker || !worker.alive) {
      throw new StoreUnavailableError('the embedded database was restarted after a failure; retry');
    }
    const stopWatching = this.watch(worker);
    try {
      const result = await run(worker);
      this.tracker.ok();
      this.stopRecovery();
      return result;
    } catch (error) {
      if (!isDurableStoreError(error)) throw error;
      // The watchdog may have stopped this worker already, with the better reason.
      if (worker === this.worker) {
        this.tracker.degraded(`the embedded database failed: ${describeStoreError(error)}`);
        await this.recycle(worker);
      }
      throw new StoreUnavailableError(this.tracker.get().reason ?? describeStoreError(error), {
        cause: error,
      });
    } finally {
      stopWatching();
    }
  }

  /**
   * A commit that cannot create a log segment never returns (PGlite spins). Such a statement is
   * recognised by running past `wedgeAfterMs` while the disk had no room for a segment; a long
   * statement on a disk with room is left alone.
   */
  private watch(worker: PgliteWorker): () => void {
    const started = Date.now();
    let diskWasFull = false;
    const timer = setInterval(
      () => {
        const free = freeBytes(this.dir);
        if (free !== undefined && free < WAL_SEGMENT_BYTES) diskWasFull = true;
        if (diskWasFull && Date.now() - started >= this.supervision.wedgeAfterMs) {
          clearInterval(timer);
          this.tracker.degraded(
            `the embedded database stopped answering with the disk holding ${this.dir} full; ` +
              'free some space and it reopens by itself',
          );
          void this.recycle(worker);
        }
      },
      Math.min(1_000, Math.max(50, this.supervision.wedgeAfterMs / 4)),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  private async recycle(worker: PgliteWorker): Promise<void> {
    if (this.worker === worker) this.worker = undefined;
    this.startRecovery();
    await worker.terminate();
  }

  /** While degraded, tries every `retryMs` to serve again, so `/health` recovers without traffic. */
  private startRecovery(): void {
    if (this.recovery !== undefined || this.closed) return;
    this.recovery = setInterval(() => void this.probe(), this.supervision.retryMs);
    this.recovery.unref();
  }

  private stopRecovery(): void {
    if (this.recovery === undefined) return;
    clearInterval(this.recovery);
    this.recovery = undefined;
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    const free = freeBytes(this.dir);
    if (free !== undefined && free < this.supervision.reserveBytes) return;
    this.probing = true;
    try {
      await this.query('SELECT 1');
    } catch {
      // still degraded; the next tick tries again
    } finally {
      this.probing = false;
    }
  }
}
