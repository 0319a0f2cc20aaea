/**
 * Versioned schema migrations, applied in order at start-up. A migration is never edited once
 * released: add a new one instead. Each runs in its own transaction with its bookkeeping row, so
 * a crash mid-migration leaves the schema at the previous version and re-running is safe.
 */
export interface Migration {
  /** Strictly increasing version number. */
  version: number;
  /** Short kebab-case description, stored alongside the version. */
  name: string;
  /** The SQL to apply; may hold several statements. */
  sql: string;
}

/** The default embedding dimension (all-minilm); other dimensions get their index on demand. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 384;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core',
    sql: `
      CREATE EXTENSION IF NOT EXISTS vector;

      CREATE TABLE settings (
        key text PRIMARY KEY,
        value jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE api_tokens (
        id text PRIMARY KEY,
        name text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        role text NOT NULL DEFAULT 'admin',
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );

      CREATE TABLE conversations (
        id text PRIMARY KEY,
        title text NOT NULL DEFAULT '',
        source text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE messages (
        id bigserial PRIMARY KEY,
        conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role text NOT NULL,
        content text NOT NULL,
        model text,
        node text,
        status text NOT NULL DEFAULT 'complete',
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);

      CREATE TABLE memories (
        id text PRIMARY KEY,
        text text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        source text NOT NULL DEFAULT 'user',
        author_node text NOT NULL,
        space text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        embedding vector,
        embedding_model text,
        embedding_dims integer
      );
      CREATE INDEX memories_space_idx ON memories (space);
      -- HNSW needs a fixed dimension, so the index is per dimension, over a cast, restricted to
      -- rows of that dimension. Other dimensions get theirs from ensureVectorIndex().
      CREATE INDEX memories_embedding_hnsw_${DEFAULT_EMBEDDING_DIMENSIONS}
        ON memories USING hnsw ((embedding::vector(${DEFAULT_EMBEDDING_DIMENSIONS})) vector_cosine_ops)
        WHERE embedding_dims = ${DEFAULT_EMBEDDING_DIMENSIONS};
    `,
  },
];
