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
  {
    version: 2,
    name: 'accounts',
    sql: `
      CREATE TABLE users (
        id text PRIMARY KEY,
        username text NOT NULL,
        password_hash text NOT NULL,
        role text NOT NULL DEFAULT 'member',
        language text NOT NULL DEFAULT 'en',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX users_username_idx ON users (lower(username));

      -- Only a hash of the session secret is stored, so a leaked database cannot log anyone in.
      CREATE TABLE sessions (
        id_hash text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX sessions_user_idx ON sessions (user_id);

      -- Which user started a conversation through the UI, so members see only their own.
      CREATE TABLE conversation_owners (
        conversation_id text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE
      );
      CREATE INDEX conversation_owners_user_idx ON conversation_owners (user_id);
    `,
  },
  {
    version: 3,
    name: 'memory-spaces',
    sql: `
      -- Shared spaces: one Automerge document each (saved bytes, no vectors), its history epoch
      -- and this node's policy of which peers may sync it.
      CREATE TABLE memory_spaces (
        name text PRIMARY KEY,
        epoch integer NOT NULL DEFAULT 0,
        policy jsonb NOT NULL,
        doc bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- A change of embedding model re-embeds into these columns in the background; search keeps
      -- using embedding/embedding_model until every row has its new vector, then they are swapped.
      ALTER TABLE memories ADD COLUMN next_embedding vector;
      ALTER TABLE memories ADD COLUMN next_embedding_model text;
      CREATE INDEX memories_created_idx ON memories (created_at DESC, id DESC);
      CREATE INDEX memories_tags_idx ON memories USING gin (tags);
    `,
  },
  {
    version: 4,
    name: 'memory-owners',
    sql: `
      -- Which member account wrote a memory; null for the node's admins (and for memories that
      -- arrive from peers' spaces). Members see shared memories and their own private ones only.
      ALTER TABLE memories ADD COLUMN owner text;
      CREATE INDEX memories_owner_idx ON memories (owner) WHERE owner IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'token-expiry',
    sql: `
      -- NULL: the token never expires.
      ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
    `,
  },
  {
    version: 6,
    name: 'join-code-out-of-settings',
    sql: `
      -- The join code is the mesh key. Setup once kept it here, where cleartext backups carry it;
      -- the key lives in the mesh key file only, which the join itself wrote.
      DELETE FROM settings WHERE key = 'mesh.joinCode';
    `,
  },
  {
    version: 7,
    name: 'wizard-model-settings',
    sql: `
      -- The setup wizard once stored its model choices under keys nothing read. They move to the
      -- keys that are read (store/settings-keys.ts), unless the user has since chosen there.
      INSERT INTO settings (key, value, updated_at)
        SELECT 'memory.embeddingModel', value, now() FROM settings WHERE key = 'models.embedding'
        ON CONFLICT (key) DO NOTHING;
      INSERT INTO settings (key, value, updated_at)
        SELECT 'ui.chatModel', value, now() FROM settings WHERE key = 'models.chat'
        ON CONFLICT (key) DO NOTHING;
      DELETE FROM settings WHERE key IN ('models.embedding', 'models.chat');
    `,
  },
  {
    version: 8,
    name: 'device-keys',
    sql: `
      -- A device key (auth/device-url.ts) is a token of its own kind: accepted in a base URL
      -- (/k/<key>) for the client APIs only, never as a bearer token.
      ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS device boolean NOT NULL DEFAULT false;
    `,
  },
  {
    version: 9,
    name: 'conversation-sources',
    sql: `
      -- Chats from the web UI were recorded under the API they used; the UI's own list keeps them
      -- apart from other clients' by source, and the UI's are exactly those claimed by a user.
      UPDATE conversations SET source = 'ui'
        WHERE id IN (SELECT conversation_id FROM conversation_owners);
      CREATE INDEX IF NOT EXISTS conversations_source_idx ON conversations (source, updated_at DESC);
    `,
  },
  {
    version: 10,
    name: 'memory-proposals',
    sql: `
      -- Memories an agent proposed from a chat, pending until their person keeps or discards them;
      -- never searched or synced. owner: the member key, '' for the node's admins (a unique index
      -- over a nullable column would let the same admin statement be pending twice).
      CREATE TABLE IF NOT EXISTS memory_proposals (
        id text PRIMARY KEY,
        owner text NOT NULL,
        text text NOT NULL,
        conversation_id text,
        agent text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX IF NOT EXISTS memory_proposals_owner_text_idx ON memory_proposals (owner, lower(text));
      CREATE INDEX IF NOT EXISTS memory_proposals_owner_created_idx ON memory_proposals (owner, created_at DESC);
    `,
  },
];
