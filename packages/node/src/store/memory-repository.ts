import type { SqlClient } from './sql.js';

/** A memory row as stored locally; `space` null means private to this node. */
export interface MemoryRecord {
  id: string;
  text: string;
  tags: string[];
  source: string;
  authorNode: string;
  space: string | null;
  createdAt: Date;
  updatedAt: Date;
  embeddingModel: string | null;
  embeddingDims: number | null;
}

/** A memory to write, with its embedding when one is available. */
export interface MemoryInput {
  id: string;
  text: string;
  tags?: string[];
  source?: string;
  authorNode: string;
  space?: string | null;
  createdAt?: Date;
  updatedAt?: Date;
  embedding?: { model: string; vector: readonly number[] } | null;
}

/** A nearest-neighbour hit: the memory and its cosine similarity in [-1, 1]. */
export interface MemoryHit extends MemoryRecord {
  score: number;
}

interface MemoryRow {
  id: string;
  text: string;
  tags: string[];
  source: string;
  author_node: string;
  space: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  embedding_model: string | null;
  embedding_dims: number | null;
  score?: number;
}

const COLUMNS =
  'id, text, tags, source, author_node, space, created_at, updated_at, embedding_model, embedding_dims';

/** pgvector's text form, which both drivers accept for a `$n::vector` parameter. */
export const toVectorLiteral = (vector: readonly number[]): string => `[${vector.join(',')}]`;

const toRecord = (row: MemoryRow): MemoryRecord => ({
  id: row.id,
  text: row.text,
  tags: row.tags,
  source: row.source,
  authorNode: row.author_node,
  space: row.space,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
  embeddingModel: row.embedding_model,
  embeddingDims: row.embedding_dims,
});

/** The local pgvector index of memories. */
export class MemoryRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Inserts or replaces a memory by id. */
  async upsert(memory: MemoryInput): Promise<void> {
    const embedding = memory.embedding ?? null;
    await this.sql.query(
      `INSERT INTO memories (id, text, tags, source, author_node, space, created_at, updated_at,
                             embedding, embedding_model, embedding_dims)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::vector, $10, $11)
       ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text, tags = EXCLUDED.tags, source = EXCLUDED.source,
         space = EXCLUDED.space, updated_at = EXCLUDED.updated_at, embedding = EXCLUDED.embedding,
         embedding_model = EXCLUDED.embedding_model, embedding_dims = EXCLUDED.embedding_dims`,
      [
        memory.id,
        memory.text,
        memory.tags ?? [],
        memory.source ?? 'user',
        memory.authorNode,
        memory.space ?? null,
        (memory.createdAt ?? new Date()).toISOString(),
        (memory.updatedAt ?? memory.createdAt ?? new Date()).toISOString(),
        embedding === null ? null : toVectorLiteral(embedding.vector),
        embedding?.model ?? null,
        embedding?.vector.length ?? null,
      ],
    );
  }

  /** One memory by id. */
  async get(id: string): Promise<MemoryRecord | undefined> {
    const [row] = await this.sql.query<MemoryRow>(`SELECT ${COLUMNS} FROM memories WHERE id = $1`, [id]);
    return row === undefined ? undefined : toRecord(row);
  }

  /** Deletes a memory; false when it did not exist. */
  async delete(id: string): Promise<boolean> {
    return (await this.sql.query('DELETE FROM memories WHERE id = $1 RETURNING id', [id])).length > 0;
  }

  /** How many memories are stored. */
  async count(): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM memories');
    return row?.n ?? 0;
  }

  /**
   * Creates the HNSW index for one embedding dimension if missing. HNSW needs a fixed dimension,
   * so each dimension in use has its own partial index over a cast.
   */
  async ensureVectorIndex(dims: number): Promise<void> {
    if (!Number.isInteger(dims) || dims < 1 || dims > 16_000) throw new RangeError(`bad dimension ${dims}`);
    await this.sql.exec(
      `CREATE INDEX IF NOT EXISTS memories_embedding_hnsw_${dims} ON memories
       USING hnsw ((embedding::vector(${dims})) vector_cosine_ops) WHERE embedding_dims = ${dims}`,
    );
  }

  /** The k memories nearest to `vector` by cosine similarity, among those embedded at its dimension. */
  async nearest(vector: readonly number[], k: number): Promise<MemoryHit[]> {
    const dims = vector.length;
    if (!Number.isInteger(dims) || dims < 1) throw new RangeError('empty query vector');
    const rows = await this.sql.query<MemoryRow>(
      `SELECT ${COLUMNS}, 1 - (embedding::vector(${dims}) <=> $1::vector(${dims})) AS score
       FROM memories WHERE embedding_dims = ${dims}
       ORDER BY embedding::vector(${dims}) <=> $1::vector(${dims}) LIMIT $2`,
      [toVectorLiteral(vector), k],
    );
    return rows.map((row) => ({ ...toRecord(row), score: Number(row.score) }));
  }
}
