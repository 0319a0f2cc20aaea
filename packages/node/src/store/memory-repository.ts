import { toSql } from 'pgvector';
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
  /** The member account that wrote it (`user:<id>` or `token:<id>`); null for the node's admins and peers. */
  owner: string | null;
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
  /** Set once, when the memory is created; see MemoryRecord.owner. */
  owner?: string | null;
}

/** A nearest-neighbour hit: the memory and its cosine similarity in [-1, 1]. */
export interface MemoryHit extends MemoryRecord {
  score: number;
}

/** Filters of a listing or a search; every field narrows. */
export interface MemoryFilter {
  /** One space; `null` means private memories only; undefined means any. */
  space?: string | null | undefined;
  /** Memories carrying every one of these tags. */
  tags?: readonly string[] | undefined;
  /** Only memories written by this node. */
  author?: string | undefined;
  /** Created at or after this time. */
  since?: Date | undefined;
  /** Created before this time. */
  until?: Date | undefined;
  /** Only what this member may see: shared memories and the member's own private ones. */
  visibleTo?: string | undefined;
}

/** A page of memories, newest first, and the cursor of the next page. */
export interface MemoryPage {
  memories: MemoryRecord[];
  nextCursor: string | null;
}

/** A search: the query's vector in the index's model, plus filters. */
export interface MemorySearch extends MemoryFilter {
  vector: readonly number[];
  /** The embedding model the vector came from; only rows embedded with it are compared. */
  model: string;
  /** The query text, for the exact-match boost; omitted means no boost. */
  text?: string | undefined;
  k: number;
  /** Hits scoring below this are dropped. */
  threshold?: number | undefined;
  /** How much an exact (case-insensitive substring) text match adds to the score. */
  exactBoost?: number | undefined;
  /** HNSW candidate list size (default 64: recall@10 ≈ 0.99 at 100k); higher is slower and more exact. */
  efSearch?: number | undefined;
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
  owner: string | null;
  score?: number;
}

const COLUMNS =
  'id, text, tags, source, author_node, space, created_at, updated_at, embedding_model, embedding_dims, owner';

/**
 * Rows that still need a vector from model $1: none from it, live or pending. A restored memory
 * names its model but carries no vector (archives hold none), so it counts as lacking one too.
 */
const LACKS_VECTOR_FROM_MODEL =
  '(embedding IS NULL OR embedding_model IS DISTINCT FROM $1) AND next_embedding_model IS DISTINCT FROM $1';

/** pgvector's text form, which both drivers accept for a `$n::vector` parameter. */
export const toVectorLiteral = (vector: readonly number[]): string => toSql(vector) as string;

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
  owner: row.owner ?? null,
});

const UPSERT_SQL = `INSERT INTO memories (id, text, tags, source, author_node, space, created_at, updated_at,
                             embedding, embedding_model, embedding_dims, owner)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::vector, $10, $11, $12)
       ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text, tags = EXCLUDED.tags, source = EXCLUDED.source,
         space = EXCLUDED.space, updated_at = EXCLUDED.updated_at, embedding = EXCLUDED.embedding,
         embedding_model = EXCLUDED.embedding_model, embedding_dims = EXCLUDED.embedding_dims,
         next_embedding = NULL, next_embedding_model = NULL`;

function upsertParams(memory: MemoryInput): unknown[] {
  const embedding = memory.embedding ?? null;
  return [
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
    memory.owner ?? null,
  ];
}

/** The local pgvector index of memories. */
export class MemoryRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Inserts or replaces a memory by id. */
  async upsert(memory: MemoryInput): Promise<void> {
    await this.sql.query(UPSERT_SQL, upsertParams(memory));
  }

  /** Inserts or replaces many memories in one transaction (one commit instead of one per row). */
  async upsertMany(memories: readonly MemoryInput[]): Promise<void> {
    if (memories.length === 0) return;
    await this.sql.transaction(async (tx) => {
      for (const memory of memories) await tx.query(UPSERT_SQL, upsertParams(memory));
    });
  }

  /** The memories with these ids, by id. */
  async getMany(ids: readonly string[]): Promise<Map<string, MemoryRecord>> {
    if (ids.length === 0) return new Map();
    const rows = await this.sql.query<MemoryRow>(
      `SELECT ${COLUMNS} FROM memories WHERE id = ANY($1::text[])`,
      [[...ids]],
    );
    return new Map(rows.map((row) => [row.id, toRecord(row)]));
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

  /** Memories newest first, filtered, with keyset pagination over (created_at, id). */
  async list(filter: MemoryFilter, limit: number, cursor?: string): Promise<MemoryPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    addFilters(filter, where, params);
    if (cursor !== undefined) {
      const decoded = decodeCursor(cursor);
      params.push(decoded.createdAt, decoded.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(limit + 1);
    const rows = await this.sql.query<MemoryRow>(
      `SELECT ${COLUMNS} FROM memories ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit).map(toRecord);
    const last = page.at(-1);
    return {
      memories: page,
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
    };
  }

  /**
   * Vector search with filters, a threshold and an exact-text boost. Candidates come from the
   * HNSW index (with pgvector's iterative scan, so filters do not starve the result) plus every
   * memory whose text contains the query; each is scored by cosine similarity, plus the boost
   * for an exact match.
   */
  async search(search: MemorySearch): Promise<MemoryHit[]> {
    const dims = search.vector.length;
    if (!Number.isInteger(dims) || dims < 1) throw new RangeError('empty query vector');
    const boost = search.exactBoost ?? 0.25;
    const where: string[] = [`embedding_dims = ${dims}`];
    const params: unknown[] = [toVectorLiteral(search.vector), search.model];
    where.push('embedding_model = $2');
    addFilters(search, where, params);
    const candidates = Math.max(search.k * 2, search.k + 10);
    const distance = `embedding::vector(${dims}) <=> $1::vector(${dims})`;
    const hits = await this.sql.transaction(async (tx) => {
      await tx.exec(
        `SET LOCAL hnsw.ef_search = ${Math.max(40, Math.min(1000, Math.trunc(search.efSearch ?? 64)))};
         SET LOCAL hnsw.iterative_scan = relaxed_order`,
      );
      const nearest = await tx.query<MemoryRow>(
        `SELECT ${COLUMNS}, 1 - (${distance}) AS score FROM memories WHERE ${where.join(' AND ')}
         ORDER BY ${distance} LIMIT ${candidates}`,
        params,
      );
      if (search.text === undefined || search.text.trim() === '')
        return { nearest, exact: [] as MemoryRow[] };
      const exactParams = [...params, `%${escapeLike(search.text.trim())}%`];
      const exact = await tx.query<MemoryRow>(
        `SELECT ${COLUMNS}, 1 - (${distance}) AS score FROM memories
         WHERE ${where.join(' AND ')} AND text ILIKE $${exactParams.length}
         ORDER BY created_at DESC LIMIT ${search.k}`,
        exactParams,
      );
      return { nearest, exact };
    });
    const byId = new Map<string, MemoryHit>();
    const needle = (search.text ?? '').trim().toLowerCase();
    for (const row of [...hits.nearest, ...hits.exact]) {
      if (byId.has(row.id)) continue;
      const exactMatch = needle !== '' && row.text.toLowerCase().includes(needle);
      byId.set(row.id, { ...toRecord(row), score: Number(row.score) + (exactMatch ? boost : 0) });
    }
    return [...byId.values()]
      .filter((hit) => search.threshold === undefined || hit.score >= search.threshold)
      .sort((a, b) => b.score - a.score)
      .slice(0, search.k);
  }

  /** Changes text and/or tags (and the embedding, when the text changed); undefined when absent. */
  async update(
    id: string,
    change: {
      text?: string;
      tags?: string[];
      embedding?: { model: string; vector: readonly number[] } | null;
    },
  ): Promise<MemoryRecord | undefined> {
    const sets: string[] = ['updated_at = now()'];
    const params: unknown[] = [id];
    if (change.text !== undefined) {
      params.push(change.text);
      sets.push(`text = $${params.length}`, 'next_embedding = NULL', 'next_embedding_model = NULL');
    }
    if (change.tags !== undefined) {
      params.push(change.tags);
      sets.push(`tags = $${params.length}`);
    }
    if (change.embedding !== undefined) {
      const e = change.embedding;
      params.push(e === null ? null : toVectorLiteral(e.vector), e?.model ?? null, e?.vector.length ?? null);
      sets.push(
        `embedding = $${params.length - 2}::vector`,
        `embedding_model = $${params.length - 1}`,
        `embedding_dims = $${params.length}`,
      );
    }
    const [row] = await this.sql.query<MemoryRow>(
      `UPDATE memories SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
      params,
    );
    return row === undefined ? undefined : toRecord(row);
  }

  /** Moves a memory into a space, or back to private with `null`. */
  async setSpace(id: string, space: string | null): Promise<boolean> {
    const rows = await this.sql.query('UPDATE memories SET space = $2 WHERE id = $1 RETURNING id', [
      id,
      space,
    ]);
    return rows.length > 0;
  }

  /** Deletes every memory of a space (leaving it); returns how many. */
  async deleteSpace(space: string): Promise<number> {
    return (await this.sql.query('DELETE FROM memories WHERE space = $1 RETURNING id', [space])).length;
  }

  /** The ids and texts of a space's memories, to reconcile the index with the space document. */
  async idsInSpace(space: string): Promise<string[]> {
    const rows = await this.sql.query<{ id: string }>('SELECT id FROM memories WHERE space = $1', [space]);
    return rows.map((row) => row.id);
  }

  /** Which of `authors` some memory names as its author. */
  async authorsAmong(authors: readonly string[]): Promise<string[]> {
    if (authors.length === 0) return [];
    const rows = await this.sql.query<{ author_node: string }>(
      'SELECT DISTINCT author_node FROM memories WHERE author_node = ANY($1::text[])',
      [[...authors]],
    );
    return rows.map((row) => row.author_node);
  }

  /** Gives the memories authored by any of `from` the author `to`; returns how many changed. */
  async reauthor(from: readonly string[], to: string): Promise<number> {
    if (from.length === 0) return 0;
    const rows = await this.sql.query<{ id: string }>(
      'UPDATE memories SET author_node = $2 WHERE author_node = ANY($1::text[]) RETURNING id',
      [[...from], to],
    );
    return rows.length;
  }

  /** Memories with no vector from `model` yet (new or pending re-embedding), oldest first. */
  async needingEmbedding(model: string, limit: number): Promise<Array<{ id: string; text: string }>> {
    return this.sql.query<{ id: string; text: string }>(
      `SELECT id, text FROM memories
       WHERE ${LACKS_VECTOR_FROM_MODEL}
       ORDER BY created_at, id LIMIT $2`,
      [model, limit],
    );
  }

  /** Stores a re-embedding beside the live vector, which search keeps using until the swap. */
  async setNextEmbedding(id: string, model: string, vector: readonly number[]): Promise<void> {
    await this.sql.query(
      'UPDATE memories SET next_embedding = $2::vector, next_embedding_model = $3 WHERE id = $1',
      [id, toVectorLiteral(vector), model],
    );
  }

  /**
   * Makes `model` the live one when every memory has a vector from it: moves the re-embeddings
   * into place in one transaction. Returns false (changing nothing) while some are missing.
   */
  async promoteEmbeddings(model: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const [missing] = await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM memories WHERE ${LACKS_VECTOR_FROM_MODEL}`,
        [model],
      );
      if ((missing?.n ?? 0) > 0) return false;
      await tx.query(
        `UPDATE memories SET embedding = next_embedding, embedding_model = next_embedding_model,
           embedding_dims = vector_dims(next_embedding), next_embedding = NULL, next_embedding_model = NULL
         WHERE next_embedding_model = $1`,
        [model],
      );
      return true;
    });
  }

  /** How many memories each embedding model covers (null: not embedded). */
  async countByModel(): Promise<Record<string, number>> {
    const rows = await this.sql.query<{ model: string | null; n: number }>(
      'SELECT embedding_model AS model, count(*)::int AS n FROM memories GROUP BY embedding_model',
    );
    return Object.fromEntries(rows.map((row) => [row.model ?? '', row.n]));
  }
}

function addFilters(filter: MemoryFilter, where: string[], params: unknown[]): void {
  if (filter.space === null) where.push('space IS NULL');
  else if (filter.space !== undefined) {
    params.push(filter.space);
    where.push(`space = $${params.length}`);
  }
  if (filter.tags !== undefined && filter.tags.length > 0) {
    params.push([...filter.tags]);
    where.push(`tags @> $${params.length}::text[]`);
  }
  if (filter.author !== undefined) {
    params.push(filter.author);
    where.push(`author_node = $${params.length}`);
  }
  if (filter.visibleTo !== undefined) {
    params.push(filter.visibleTo);
    where.push(`(space IS NOT NULL OR owner = $${params.length})`);
  }
  if (filter.since !== undefined) {
    params.push(filter.since.toISOString());
    where.push(`created_at >= $${params.length}::timestamptz`);
  }
  if (filter.until !== undefined) {
    params.push(filter.until.toISOString());
    where.push(`created_at < $${params.length}::timestamptz`);
  }
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Thrown for a pagination cursor this node did not make. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

function encodeCursor(memory: MemoryRecord): string {
  return Buffer.from(JSON.stringify([memory.createdAt.toISOString(), memory.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(createdAt))) {
      return { createdAt, id };
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError('cursor is not one this node returned');
}
