import type { SqlClient } from '../store/sql.js';

/** Which UI user started which conversation, so members see only their own history. */
export class ConversationOwnerRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Records that a user started (or continued) a conversation; the first owner stays. */
  async claim(conversationId: string, userId: string): Promise<void> {
    await this.sql.query(
      'INSERT INTO conversation_owners (conversation_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [conversationId, userId],
    );
  }

  /** The owner of a conversation, if a UI user started it. */
  async ownerOf(conversationId: string): Promise<string | undefined> {
    const [row] = await this.sql.query<{ user_id: string }>(
      'SELECT user_id FROM conversation_owners WHERE conversation_id = $1',
      [conversationId],
    );
    return row?.user_id;
  }

  /** The ids of the conversations a user started. */
  async conversationsOf(userId: string): Promise<Set<string>> {
    const rows = await this.sql.query<{ conversation_id: string }>(
      'SELECT conversation_id FROM conversation_owners WHERE user_id = $1',
      [userId],
    );
    return new Set(rows.map((row) => row.conversation_id));
  }
}
