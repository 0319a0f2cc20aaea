import type { SqlClient } from './sql.js';

/** One stored chat message. */
export interface StoredMessage {
  id: number;
  conversationId: string;
  role: string;
  content: string;
  model: string | null;
  node: string | null;
  /** An answer's state: 'generating', then 'complete', 'stopped', 'partial' or 'failed'. */
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

/** Where a conversation came from: the web UI, or any other client of the APIs. */
export type ConversationSourceFilter = 'ui' | 'api' | 'all';

/** The source the recorder writes for chats from a signed-in browser session. */
export const UI_SOURCE = 'ui';

/** Which conversations to list, most recently updated first. */
export interface ConversationQuery {
  limit: number;
  offset: number;
  /** Text to find, case-insensitive, in the title or any message. */
  text?: string | undefined;
  source: ConversationSourceFilter;
  /** Only the conversations this user started (claimed in conversation_owners). */
  ownerId?: string | undefined;
}

/** What an answer's row becomes once the generation ends. */
export interface AnswerUpdate {
  content: string;
  node: string | null;
  status: string;
  metadata: Record<string, unknown>;
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

  /**
   * Appends a question, unless it retries the last one: when the conversation ends with this very
   * question and an answer that failed with no text, that empty answer is dropped and the question
   * kept, so a Retry does not store the question twice.
   */
  async appendQuestion(conversationId: string, message: NewMessage): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const last = await tx.query<{ id: number; role: string; content: string; status: string }>(
        `SELECT id, role, content, status FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT 2`,
        [conversationId],
      );
      const [answer, question] = last;
      const retry =
        answer?.role === 'assistant' &&
        answer.status === 'failed' &&
        answer.content === '' &&
        question?.role === message.role &&
        question.content === message.content;
      if (retry) await tx.query('DELETE FROM messages WHERE id = $1', [answer.id]);
      else await insertMessage(tx, conversationId, message);
      await tx.query('UPDATE conversations SET updated_at = now() WHERE id = $1', [conversationId]);
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
    return rows.map(toConversation);
  }

  /** Conversations matching a query, most recently updated first. */
  async search(query: ConversationQuery): Promise<Conversation[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.source === 'ui') where.push(`c.source = ${param(UI_SOURCE)}`);
    else if (query.source === 'api') where.push(`c.source <> ${param(UI_SOURCE)}`);
    if (query.ownerId !== undefined) {
      where.push(
        `EXISTS (SELECT 1 FROM conversation_owners o WHERE o.conversation_id = c.id AND o.user_id = ${param(query.ownerId)})`,
      );
    }
    if (query.text !== undefined && query.text !== '') {
      const pattern = param(`%${escapeLike(query.text)}%`);
      where.push(
        `(c.title ILIKE ${pattern} OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.content ILIKE ${pattern}))`,
      );
    }
    const rows = await this.sql.query<ConversationRow>(
      `SELECT c.id, c.title, c.source, c.created_at, c.updated_at,
              (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS message_count
       FROM conversations c ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
       ORDER BY c.updated_at DESC, c.id LIMIT ${param(query.limit)} OFFSET ${param(query.offset)}`,
      params,
    );
    return rows.map(toConversation);
  }

  /** One conversation's header, if it exists. */
  async get(conversationId: string): Promise<Conversation | undefined> {
    const [row] = await this.sql.query<ConversationRow>(
      `SELECT c.id, c.title, c.source, c.created_at, c.updated_at,
              (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS message_count
       FROM conversations c WHERE c.id = $1`,
      [conversationId],
    );
    return row === undefined ? undefined : toConversation(row);
  }

  /** Renames a conversation; false when it does not exist. */
  async rename(conversationId: string, title: string): Promise<boolean> {
    const rows = await this.sql.query('UPDATE conversations SET title = $2 WHERE id = $1 RETURNING id', [
      conversationId,
      title,
    ]);
    return rows.length > 0;
  }

  /** Writes an answer's final state into the row that stood for it while it was generated. */
  async finishAnswer(messageId: number, answer: AnswerUpdate): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const rows = await tx.query<{ conversation_id: string }>(
        `UPDATE messages SET content = $2, node = $3, status = $4, metadata = $5::jsonb
         WHERE id = $1 RETURNING conversation_id`,
        [messageId, answer.content, answer.node, answer.status, JSON.stringify(answer.metadata)],
      );
      // Deleted meanwhile: nothing left to finish.
      if (rows[0] === undefined) return;
      await tx.query('UPDATE conversations SET updated_at = now() WHERE id = $1', [rows[0].conversation_id]);
    });
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

  /** Deletes a conversation, its messages and its owner; false when it did not exist. */
  async delete(conversationId: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const rows = await tx.query('DELETE FROM conversations WHERE id = $1 RETURNING id', [conversationId]);
      // The owner row is claimed before the conversation exists, so no foreign key removes it.
      await tx.query('DELETE FROM conversation_owners WHERE conversation_id = $1', [conversationId]);
      return rows.length > 0;
    });
  }

  /** Counts for the dashboard. */
  async counts(): Promise<{ conversations: number; messages: number }> {
    const [row] = await this.sql.query<{ conversations: number; messages: number }>(
      'SELECT (SELECT count(*)::int FROM conversations) AS conversations, (SELECT count(*)::int FROM messages) AS messages',
    );
    return row ?? { conversations: 0, messages: 0 };
  }
}

function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    title: row.title,
    source: row.source,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    messageCount: row.message_count,
  };
}

/** LIKE's wildcards taken literally, so a search for `50%` finds "50%" only. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
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
