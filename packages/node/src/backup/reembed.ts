/**
 * Re-embeds memories whose vectors are missing: archives carry no vectors, so after a restore
 * each memory is embedded again with the model it was embedded with, by the local backend.
 */
import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { toVectorLiteral } from '../store/memory-repository.js';
import type { SqlClient } from '../store/sql.js';

/** Options of the re-embedder. */
export interface ReembedderInit {
  /** Memories per pass; small so a pass never holds the backend long. */
  batchSize?: number;
  /** Pause between passes while work remains or the backend is down. */
  intervalMs?: number;
}

/** What the re-embedder uses. */
export interface ReembedderComponents {
  sql: SqlClient;
  backend: Backend;
  logger: Logger;
}

/** Background job: fills in missing memory vectors, a batch at a time, until none are left. */
export class Reembedder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(
    private readonly init: ReembedderInit,
    private readonly components: ReembedderComponents,
  ) {}

  /** Starts the background passes; safe to call twice. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    const loop = async () => {
      const done = await this.pass().catch(() => 0);
      if (this.stopped) return;
      this.timer = setTimeout(loop, done > 0 ? 100 : (this.init.intervalMs ?? 30_000));
      this.timer.unref();
    };
    this.timer = setTimeout(loop, 500);
    this.timer.unref();
  }

  /** Stops the passes and waits for the current one; safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.abort.abort();
    await this.running?.catch(() => {});
  }

  /** One pass: embeds up to a batch of memories; returns how many got a vector. */
  async pass(): Promise<number> {
    if (this.running !== undefined) return this.running;
    this.running = this.embedBatch();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async embedBatch(): Promise<number> {
    const { sql, backend, logger } = this.components;
    if (backend.health().state !== 'up') return 0;
    const [hasColumn] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = 'memories' AND column_name = 'embedding'`,
    );
    if ((hasColumn?.n ?? 0) === 0) return 0;
    const rows = await sql.query<{ id: string; text: string; embedding_model: string }>(
      `SELECT id, text, embedding_model FROM memories
       WHERE embedding IS NULL AND embedding_model IS NOT NULL ORDER BY id LIMIT $1`,
      [this.init.batchSize ?? 32],
    );
    let done = 0;
    for (const row of rows) {
      if (this.stopped) break;
      try {
        const response = await backend.embed(
          { model: row.embedding_model, input: row.text },
          this.abort.signal,
        );
        const vector = (response.embeddings as number[][] | undefined)?.[0];
        if (!Array.isArray(vector) || vector.length === 0) continue;
        await sql.query('UPDATE memories SET embedding = $2::vector, embedding_dims = $3 WHERE id = $1', [
          row.id,
          toVectorLiteral(vector),
          vector.length,
        ]);
        done += 1;
      } catch (error) {
        logger.warn(
          { err: error, memory: row.id, model: row.embedding_model },
          're-embedding failed; will retry',
        );
        break;
      }
    }
    if (done > 0) logger.info({ done }, 'memories re-embedded');
    return done;
  }
}
