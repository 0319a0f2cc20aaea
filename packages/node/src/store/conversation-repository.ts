import type { SqlClient } from './sql.js';

/** One stored chat message. */
export interface StoredMessage {
  id: number;
  conversationId: string;
  role: string;
  content: string;
  model: string | null;
  node: string | null;
  /** 'complete', or 'partial'/'failed' when the answer was cut off. */
  status: string;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

/** A conversation header. */
export interface Conversation {
  id: string;
  title: string;
  source: string;
  createdAt: Date;
  updatedAt: Date;
  messageCount: number;
}

/** A message to append. */
export interface NewMessage {
  role: string;
  content: string;
  model?: string | null;
  node?: string | null;
  status?: string;
  metadata?: Record<string, unknown>;
}

interface MessageRow {
  id: string | number;
  conversation_id: string;
  role: string;
  content: string;
  model: string | null;
  node: string | null;
  status: string;
  metadata: Record<string, unknown>;
  created_at: Date | string;
}

interface ConversationRow {
  id: string;
  title: string;
  source: string;
  created_at: Date | string;
  updated_at: Date | string;
  message_count: number;
}

/** Conversations and their messages: every chat through this node is kept. */
export class ConversationRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Creates a conversation with its first messages, atomically. */
  async create(
    conversation: { id: string; title: string; source: string },
    messages: NewMessage[],
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('INSERT INTO conversations (id, title, source) VALUES ($1, $2, $3)', [
        conversation.id,
        conversation.title,
        conversation.source,
      ]);
      for (const message of messages) await insertMessage(tx, conversation.id, message);
    });
  }

  /** Appends a message to an existing conversation and returns its id. */
  async append(conversationId: string, message: NewMessage): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const id = await insertMessage(tx, conversationId, message);
      await tx.query('UPDATE conversations SET updated_at = now() WHERE id = $1', [conversationId]);
      return id;
    });
  }

  /** Conversations, most recently updated first. */
  async list(limit = 50, offset = 0): Promise<Conversation[]> {
    const rows = await this.sql.query<ConversationRow>(
      `SELECT c.id, c.title, c.source, c.created_at, c.updated_at,
              (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS message_count
       FROM conversations c ORDER BY c.updated_at DESC, c.id LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    return rows.map((row) => ({
      id: row.id,
      title: row.title,
      source: row.source,
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
      messageCount: row.message_count,
    }));
  }

  /** The messages of one conversation, oldest first. */
  async messages(conversationId: string): Promise<StoredMessage[]> {
    const rows = await this.sql.query<MessageRow>(
      `SELECT id, conversation_id, role, content, model, node, status, metadata, created_at
       FROM messages WHERE conversation_id = $1 ORDER BY id`,
      [conversationId],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      conversationId: row.conversation_id,
      role: row.role,
      content: row.content,
      model: row.model,
      node: row.node,
      status: row.status,
      metadata: row.metadata,
      createdAt: new Date(row.created_at),
    }));
  }

  /** Whether a conversation with this id exists. */
  async exists(conversationId: string): Promise<boolean> {
    return (await this.sql.query('SELECT 1 FROM conversations WHERE id = $1', [conversationId])).length > 0;
  }

  /** Deletes a conversation and its messages; false when it did not exist. */
  async delete(conversationId: string): Promise<boolean> {
    const rows = await this.sql.query('DELETE FROM conversations WHERE id = $1 RETURNING id', [
      conversationId,
    ]);
    return rows.length > 0;
  }

  /** Counts for the dashboard. */
  async counts(): Promise<{ conversations: number; messages: number }> {
    const [row] = await this.sql.query<{ conversations: number; messages: number }>(
      'SELECT (SELECT count(*)::int FROM conversations) AS conversations, (SELECT count(*)::int FROM messages) AS messages',
    );
    return row ?? { conversations: 0, messages: 0 };
  }
}

async function insertMessage(
  tx: Pick<SqlClient, 'query'>,
  conversationId: string,
  message: NewMessage,
): Promise<number> {
  const [row] = await tx.query<{ id: string | number }>(
    `INSERT INTO messages (conversation_id, role, content, model, node, status, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id`,
    [
      conversationId,
      message.role,
      message.content,
      message.model ?? null,
      message.node ?? null,
      message.status ?? 'complete',
      JSON.stringify(message.metadata ?? {}),
    ],
  );
  return Number(row!.id);
}
