import type { SqlClient } from './sql.js';

/** A stored API token; only the hash of the secret is kept. */
export interface ApiTokenRecord {
  id: string;
  name: string;
  role: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

interface TokenRow {
  id: string;
  name: string;
  role: string;
  created_at: Date | string;
  last_used_at: Date | string | null;
  revoked_at: Date | string | null;
}

const toDate = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

const toRecord = (row: TokenRow): ApiTokenRecord => ({
  id: row.id,
  name: row.name,
  role: row.role,
  createdAt: new Date(row.created_at),
  lastUsedAt: toDate(row.last_used_at),
  revokedAt: toDate(row.revoked_at),
});

/** API tokens by hash: creation, lookup, revocation. */
export class TokenRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Records a token by the hash of its secret. */
  async insert(token: { id: string; name: string; hash: string; role: string }): Promise<void> {
    await this.sql.query('INSERT INTO api_tokens (id, name, token_hash, role) VALUES ($1, $2, $3, $4)', [
      token.id,
      token.name,
      token.hash,
      token.role,
    ]);
  }

  /** The live (not revoked) token with this hash, marking it used; undefined when none. */
  async useByHash(hash: string): Promise<ApiTokenRecord | undefined> {
    const [row] = await this.sql.query<TokenRow>(
      `UPDATE api_tokens SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL
       RETURNING id, name, role, created_at, last_used_at, revoked_at`,
      [hash],
    );
    return row === undefined ? undefined : toRecord(row);
  }

  /** Every token, newest first, revoked ones included. */
  async list(): Promise<ApiTokenRecord[]> {
    const rows = await this.sql.query<TokenRow>(
      'SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at DESC, id',
    );
    return rows.map(toRecord);
  }

  /** Revokes a token; returns false when no live token has that id. */
  async revoke(id: string): Promise<boolean> {
    const rows = await this.sql.query(
      'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id',
      [id],
    );
    return rows.length > 0;
  }
}
