import type { SqlClient } from '../store/sql.js';
import type { UserRole } from './user-repository.js';

/** A live session joined with its user. */
export interface SessionRecord {
  userId: string;
  username: string;
  role: UserRole;
  language: string;
  csrfToken: string;
  expiresAt: Date;
}

interface SessionRow {
  user_id: string;
  username: string;
  role: string;
  language: string;
  csrf_token: string;
  expires_at: Date | string;
}

/** Login sessions, keyed by the SHA-256 of the session secret. */
export class SessionRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Records a new session. */
  async insert(session: {
    idHash: string;
    userId: string;
    csrfToken: string;
    expiresAt: Date;
  }): Promise<void> {
    await this.sql.query(
      'INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)',
      [session.idHash, session.userId, session.csrfToken, session.expiresAt.toISOString()],
    );
  }

  /** The unexpired session with this hash, sliding its expiry forward to `extendTo` when given. */
  async find(idHash: string, extendTo?: Date): Promise<SessionRecord | undefined> {
    const [row] = await this.sql.query<SessionRow>(
      `SELECT s.user_id, u.username, u.role, u.language, s.csrf_token, s.expires_at
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id_hash = $1 AND s.expires_at > now()`,
      [idHash],
    );
    if (row === undefined) return undefined;
    let expiresAt = new Date(row.expires_at);
    if (extendTo !== undefined && extendTo > expiresAt) {
      await this.sql.query('UPDATE sessions SET last_seen_at = now(), expires_at = $2 WHERE id_hash = $1', [
        idHash,
        extendTo.toISOString(),
      ]);
      expiresAt = extendTo;
    }
    return {
      userId: row.user_id,
      username: row.username,
      role: row.role === 'admin' ? 'admin' : 'member',
      language: row.language,
      csrfToken: row.csrf_token,
      expiresAt,
    };
  }

  /** Ends one session. */
  async delete(idHash: string): Promise<void> {
    await this.sql.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  }

  /** Ends every session of a user (after a password change or removal). */
  async deleteForUser(userId: string): Promise<void> {
    await this.sql.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  }

  /** Drops expired sessions; returns how many. */
  async prune(): Promise<number> {
    const rows = await this.sql.query('DELETE FROM sessions WHERE expires_at <= now() RETURNING id_hash');
    return rows.length;
  }
}
