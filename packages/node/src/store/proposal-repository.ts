import type { SqlClient } from './sql.js';

/** A memory an agent proposed, pending (migration 10). */
export interface ProposalRecord {
  id: string;
  /** The member key of the person whose chat proposed it; '' for the node's admins. */
  owner: string;
  text: string;
  conversationId: string | null;
  /** The proposing agent's slug. */
  agent: string;
  createdAt: Date;
}

interface ProposalRow {
  id: string;
  owner: string;
  text: string;
  conversation_id: string | null;
  agent: string;
  created_at: Date | string;
}

const COLUMNS = 'id, owner, text, conversation_id, agent, created_at';

const toRecord = (row: ProposalRow): ProposalRecord => ({
  id: row.id,
  owner: row.owner,
  text: row.text,
  conversationId: row.conversation_id,
  agent: row.agent,
  createdAt: new Date(row.created_at),
});

/** Pending memory proposals, per owner. */
export class ProposalRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Stores proposals; one whose text (any case) is pending for the owner already is left out.
   * Keeps at most `keep` per owner, dropping the oldest.
   */
  async insert(proposals: readonly ProposalRecord[], keep: number): Promise<void> {
    if (proposals.length === 0) return;
    await this.sql.transaction(async (tx) => {
      for (const p of proposals) {
        await tx.query(
          `INSERT INTO memory_proposals (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
          [p.id, p.owner, p.text, p.conversationId, p.agent, p.createdAt.toISOString()],
        );
      }
      const owner = proposals[0]!.owner;
      await tx.query(
        `DELETE FROM memory_proposals WHERE owner = $1 AND id NOT IN (
           SELECT id FROM memory_proposals WHERE owner = $1 ORDER BY created_at DESC, id DESC LIMIT $2)`,
        [owner, keep],
      );
    });
  }

  /** The owner's pending proposals, newest first. */
  async list(owner: string, limit: number): Promise<ProposalRecord[]> {
    const rows = await this.sql.query<ProposalRow>(
      `SELECT ${COLUMNS} FROM memory_proposals WHERE owner = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [owner, limit],
    );
    return rows.map(toRecord);
  }

  /** Removes the owner's proposal and returns it; undefined when the owner has none of that id. */
  async take(id: string, owner: string): Promise<ProposalRecord | undefined> {
    const [row] = await this.sql.query<ProposalRow>(
      `DELETE FROM memory_proposals WHERE id = $1 AND owner = $2 RETURNING ${COLUMNS}`,
      [id, owner],
    );
    return row === undefined ? undefined : toRecord(row);
  }
}
