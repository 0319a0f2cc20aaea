/**
 * Every API token of a node, wherever it is kept: the ones the API issues (database) and the
 * admin tokens `allerac token` issues (token file). One list, one revoke, for the API and the CLI.
 */
import { randomUUID } from 'node:crypto';
import type { TokenRepository } from '../store/token-repository.js';
import { readTokenFile, revokeFileToken, tokenFilePath } from './token-file.js';
import { isExpired } from './token-lifetime.js';
import { generateDeviceKey, generateToken, hashToken } from './token-secret.js';

/** A token as listed: never its secret nor its hash. */
export interface TokenInfo {
  id: string;
  name: string;
  role: 'admin' | 'member';
  /** `api`: issued by the management API (database); `cli`: by `allerac token` (token file). */
  source: 'api' | 'cli';
  /** A device key (in a base URL, for the client APIs only) rather than a bearer token. */
  device: boolean;
  createdAt: string;
  /** Tracked for API tokens only. */
  lastUsedAt: string | null;
  /** Null: never expires. */
  expiresAt: string | null;
  revokedAt: string | null;
  /** Whether the token is accepted now. */
  state: 'live' | 'expired' | 'revoked';
}

/** A token just issued: its secret is shown this once. */
export interface IssuedToken {
  id: string;
  name: string;
  role: 'admin' | 'member';
  token: string;
  expiresAt: string | null;
  device: boolean;
}

const stateOf = (revokedAt: string | null, expiresAt: string | null, now: Date): TokenInfo['state'] =>
  revokedAt !== null ? 'revoked' : isExpired(expiresAt, now) ? 'expired' : 'live';

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

/** The tokens of the token file, as listed. */
export function listFileTokens(dataDir: string, now: Date = new Date()): TokenInfo[] {
  return readTokenFile(tokenFilePath(dataDir)).map((entry) => ({
    id: entry.id,
    name: entry.name,
    role: 'admin',
    source: 'cli',
    device: false,
    createdAt: entry.createdAt,
    lastUsedAt: null,
    expiresAt: entry.expiresAt ?? null,
    revokedAt: entry.revokedAt ?? null,
    state: stateOf(entry.revokedAt ?? null, entry.expiresAt ?? null, now),
  }));
}

/** Issues, lists and revokes the node's tokens. */
export class TokenRegistry {
  constructor(
    private readonly dataDir: string,
    private readonly tokens: TokenRepository,
  ) {}

  /** Issues an API token or a device key (database) with a role and an optional expiry. */
  async issue(options: {
    name: string;
    role: 'admin' | 'member';
    expiresAt?: Date | undefined;
    device?: boolean | undefined;
  }): Promise<IssuedToken> {
    const device = options.device === true;
    const token = device ? generateDeviceKey() : generateToken();
    const id = randomUUID();
    await this.tokens.insert({
      id,
      name: options.name,
      hash: hashToken(token),
      role: options.role,
      expiresAt: options.expiresAt,
      device,
    });
    return {
      id,
      name: options.name,
      role: options.role,
      token,
      expiresAt: iso(options.expiresAt ?? null),
      device,
    };
  }

  /** Every token, newest first: the API's and the CLI's. */
  async list(now: Date = new Date()): Promise<TokenInfo[]> {
    const stored: TokenInfo[] = (await this.tokens.list()).map((record) => {
      const revokedAt = iso(record.revokedAt);
      const expiresAt = iso(record.expiresAt);
      return {
        id: record.id,
        name: record.name,
        role: record.role === 'member' ? 'member' : 'admin',
        source: 'api',
        device: record.device,
        createdAt: record.createdAt.toISOString(),
        lastUsedAt: iso(record.lastUsedAt),
        expiresAt,
        revokedAt,
        state: stateOf(revokedAt, expiresAt, now),
      };
    });
    return [...stored, ...listFileTokens(this.dataDir, now)].sort(
      (a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id),
    );
  }

  /** Revokes a token by id, wherever it is kept; false when no unrevoked token has it. */
  async revoke(id: string): Promise<boolean> {
    if (await this.tokens.revoke(id)) return true;
    return revokeFileToken(this.dataDir, id);
  }
}
