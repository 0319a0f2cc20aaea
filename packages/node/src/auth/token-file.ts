/**
 * `<data-dir>/admin-tokens.json`: the admin tokens `allerac token` issues, hashed. A file rather
 * than the database, so the CLI can issue and revoke one while the node holds the embedded
 * database open. Writes replace the file atomically, so the node never reads half of one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isExpired } from './token-lifetime.js';
import { generateToken, hashToken } from './token-secret.js';

/** The token file's name inside the data dir. */
export const ADMIN_TOKEN_FILE = 'admin-tokens.json';

/** Expired or revoked entries are dropped from the file this long after, so it does not grow forever. */
const KEEP_DEAD_ENTRIES_MS = 30 * 24 * 3600_000;

/** One hashed token as stored in the token file. */
export interface TokenFileEntry {
  id: string;
  name: string;
  hash: string;
  createdAt: string;
  /** Absent: never expires. */
  expiresAt?: string;
  revokedAt?: string;
}

/** The token file exists but is not a token list. */
export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/** Where a data dir keeps its token file. */
export const tokenFilePath = (dataDir: string): string => join(dataDir, ADMIN_TOKEN_FILE);

/** The entries of a token file; none when it does not exist. */
export function readTokenFile(file: string): TokenFileEntry[] {
  if (!existsSync(file)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every(isEntry))
    throw new TokenFileError(`${file} is not a token list; move it away and issue a new token`);
  return parsed;
}

function isEntry(value: unknown): value is TokenFileEntry {
  const entry = value as Partial<TokenFileEntry> | null;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.id === 'string' &&
    typeof entry.name === 'string' &&
    typeof entry.hash === 'string' &&
    typeof entry.createdAt === 'string' &&
    (entry.expiresAt === undefined || typeof entry.expiresAt === 'string') &&
    (entry.revokedAt === undefined || typeof entry.revokedAt === 'string')
  );
}

/** Replaces the token file (mode 0600) in one rename. */
export function writeTokenFile(file: string, entries: readonly TokenFileEntry[]): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

const deadSince = (entry: TokenFileEntry): string | undefined =>
  entry.revokedAt ?? (isExpired(entry.expiresAt) ? entry.expiresAt : undefined);

/**
 * Issues an admin token into the data dir's token file and returns it; `expiresAt` bounds its
 * life. The secret exists only in the return value.
 */
export function issueAdminToken(dataDir: string, name = 'cli', options: { expiresAt?: Date } = {}): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = tokenFilePath(dataDir);
  const now = Date.now();
  const entries = readTokenFile(file).filter((entry) => {
    const dead = deadSince(entry);
    return dead === undefined || now - Date.parse(dead) < KEEP_DEAD_ENTRIES_MS;
  });
  const token = generateToken();
  entries.push({
    id: randomUUID(),
    name,
    hash: hashToken(token),
    createdAt: new Date(now).toISOString(),
    ...(options.expiresAt !== undefined ? { expiresAt: options.expiresAt.toISOString() } : {}),
  });
  writeTokenFile(file, entries);
  return token;
}

/** Revokes a token of the file; false when the file has no live token with this id. */
export function revokeFileToken(dataDir: string, id: string, now: Date = new Date()): boolean {
  const file = tokenFilePath(dataDir);
  const entries = readTokenFile(file);
  const entry = entries.find((e) => e.id === id && e.revokedAt === undefined);
  if (entry === undefined) return false;
  entry.revokedAt = now.toISOString();
  writeTokenFile(file, entries);
  return true;
}
