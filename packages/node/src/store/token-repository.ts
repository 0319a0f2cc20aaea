import type { SqlClient } from './sql.js';

/** A stored API token; only the hash of the secret is kept. */
export interface ApiTokenRecord {
  id: string;
  name: string;
  role: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /** Null: never expires. */
  expiresAt: Date | null;
  /** A device key: accepted in a base URL, for the client APIs only. */
  device: boolean;
}

interface TokenRow {
  id: string;
  name: string;
  role: string;
  created_at: Date | string;
  last_used_at: Date | string | null;
  revoked_at: Date | string | null;
  expires_at: Date | string | null;
  device: boolean;
}

const COLUMNS = 'id, name, role, created_at, last_used_at, revoked_at, expires_at, device';

const toDate = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

const toRecord = (row: TokenRow): ApiTokenRecord => ({
  id: row.id,
  name: row.name,
  role: row.role,
  createdAt: new Date(row.created_at),
  lastUsedAt: toDate(row.last_used_at),
  revokedAt: toDate(row.revoked_at),
  expiresAt: toDate(row.expires_at),
  device: row.device === true,
});

/** API tokens by hash: creation, lookup, revocation. */
export class TokenRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Records a token by the hash of its secret; `expiresAt` bounds its life. */
  async insert(token: {
    id: string;
    name: string;
    hash: string;
    role: string;
    expiresAt?: Date | undefined;
    /** A device key rather than a bearer token. */
    device?: boolean | undefined;
  }): Promise<void> {
    await this.sql.query(
      'INSERT INTO api_tokens (id, name, token_hash, role, expires_at, device) VALUES ($1, $2, $3, $4, $5, $6)',
      [
        token.id,
        token.name,
        token.hash,
        token.role,
        token.expiresAt?.toISOString() ?? null,
        token.device === true,
      ],
    );
  }

  /**
   * The live (neither revoked nor expired) token of this kind (`device`: a device key, else a
   * bearer token) with this hash, marking it used; undefined when none.
   */
  async useByHash(hash: string, device = false): Promise<ApiTokenRecord | undefined> {
    const [row] = await this.sql.query<TokenRow>(
      `UPDATE api_tokens SET last_used_at = now()
       WHERE token_hash = $1 AND device = $2 AND revoked_at IS NULL
         AND (expires_at IS NULL OR expires_at > now())
       RETURNING ${COLUMNS}`,
      [hash, device],
    );
    return row === undefined ? undefined : toRecord(row);
  }

  /** Every token, newest first, revoked and expired ones included. */
  async list(): Promise<ApiTokenRecord[]> {
    const rows = await this.sql.query<TokenRow>(
      `SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at DESC, id`,
    );
    return rows.map(toRecord);
  }

  /** Revokes a token; returns false when no unrevoked token has that id. */
  async revoke(id: string): Promise<boolean> {
    const rows = await this.sql.query(
      'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id',
      [id],
    );
    return rows.length > 0;
  }
}
