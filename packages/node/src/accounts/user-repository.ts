import type { SqlClient } from '../store/sql.js';

/** What a user may do: admins manage the node, members chat and keep their own memories. */
export type UserRole = 'admin' | 'member';

/** A UI account (the password hash is never part of it). */
export interface User {
  id: string;
  username: string;
  role: UserRole;
  language: string;
  createdAt: Date;
}

interface UserRow {
  id: string;
  username: string;
  role: string;
  language: string;
  created_at: Date | string;
  password_hash?: string;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  role: row.role === 'admin' ? 'admin' : 'member',
  language: row.language,
  createdAt: new Date(row.created_at),
});

const COLUMNS = 'id, username, role, language, created_at';

/** UI accounts; usernames are unique regardless of case. */
export class UserRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Creates a user; rejects (unique violation) when the username is taken. */
  async insert(user: {
    id: string;
    username: string;
    passwordHash: string;
    role: UserRole;
    language?: string;
  }): Promise<void> {
    await this.sql.query(
      'INSERT INTO users (id, username, password_hash, role, language) VALUES ($1, $2, $3, $4, $5)',
      [user.id, user.username, user.passwordHash, user.role, user.language ?? 'en'],
    );
  }

  /**
   * Creates the first admin in one statement that inserts nothing when any admin exists, so two
   * racing setup requests cannot both succeed. Returns false when an admin already existed.
   */
  async insertFirstAdmin(user: { id: string; username: string; passwordHash: string; language?: string }) {
    const rows = await this.sql.query(
      `INSERT INTO users (id, username, password_hash, role, language)
       SELECT $1, $2, $3, 'admin', $4 WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')
       RETURNING id`,
      [user.id, user.username, user.passwordHash, user.language ?? 'en'],
    );
    return rows.length > 0;
  }

  /** The user and their password hash, by username (any case). */
  async findWithHash(username: string): Promise<(User & { passwordHash: string }) | undefined> {
    const [row] = await this.sql.query<UserRow & { password_hash: string }>(
      `SELECT ${COLUMNS}, password_hash FROM users WHERE lower(username) = lower($1)`,
      [username],
    );
    return row === undefined ? undefined : { ...toUser(row), passwordHash: row.password_hash };
  }

  /** The user with this id. */
  async get(id: string): Promise<User | undefined> {
    const [row] = await this.sql.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return row === undefined ? undefined : toUser(row);
  }

  /** Every user, oldest first. */
  async list(): Promise<User[]> {
    const rows = await this.sql.query<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY created_at, id`);
    return rows.map(toUser);
  }

  /** How many admins exist. */
  async countAdmins(): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE role = 'admin'",
    );
    return row?.n ?? 0;
  }

  /** Replaces a user's password hash. */
  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.sql.query('UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1', [
      id,
      passwordHash,
    ]);
  }

  /** Sets a user's UI language. */
  async setLanguage(id: string, language: string): Promise<void> {
    await this.sql.query('UPDATE users SET language = $2, updated_at = now() WHERE id = $1', [id, language]);
  }

  /** Deletes a user (their sessions go with them); false when none had this id. */
  async delete(id: string): Promise<boolean> {
    const rows = await this.sql.query('DELETE FROM users WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }
}
