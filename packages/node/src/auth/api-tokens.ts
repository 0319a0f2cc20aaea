import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TokenRepository } from '../store/token-repository.js';

/** Admin tokens issued by `allerac token` live in this file of the data dir, hashed. */
export const ADMIN_TOKEN_FILE = 'admin-tokens.json';

/** Every token starts with this, so a leaked one is easy to recognise in logs and code. */
export const TOKEN_PREFIX = 'alr_';

/** One hashed token as stored in the token file. */
interface TokenFileEntry {
  id: string;
  name: string;
  hash: string;
  createdAt: string;
}

/** Who is making a request, once authenticated. */
export interface Principal {
  kind: 'loopback' | 'token' | 'session';
  role: 'admin' | 'member';
  /** Token id or user id. */
  id?: string;
  name?: string;
}

/** A fresh random token; only its hash is ever stored. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 of a token: tokens are long random strings, so a fast hash is enough. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Issues an admin token into the data dir's token file (mode 0600) and returns it. The file,
 * not the database, holds these, so the CLI can issue one while the node runs.
 */
export function issueAdminToken(dataDir: string, name = 'cli'): string {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  mkdirSync(dirname(file), { recursive: true });
  const entries = readTokenFile(file);
  const token = generateToken();
  entries.push({ id: randomUUID(), name, hash: hashToken(token), createdAt: new Date().toISOString() });
  writeFileSync(file, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

function readTokenFile(file: string): TokenFileEntry[] {
  if (!existsSync(file)) return [];
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed))
    throw new Error(`${file} is not a token list; move it away and issue a new token`);
  return parsed as TokenFileEntry[];
}

/** Checks bearer tokens against the token file (re-read when it changes) and the database. */
export class TokenVerifier {
  private cached: { mtimeMs: number; entries: TokenFileEntry[] } | undefined;
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly tokens: TokenRepository,
  ) {
    this.file = join(dataDir, ADMIN_TOKEN_FILE);
  }

  /** The principal a token belongs to, or undefined when it is unknown or revoked. */
  async verify(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const hash = hashToken(token);
    const fromFile = this.fileEntries().find((entry) => safeEqual(entry.hash, hash));
    if (fromFile !== undefined) return { kind: 'token', role: 'admin', id: fromFile.id, name: fromFile.name };
    const stored = await this.tokens.useByHash(hash);
    if (stored === undefined) return undefined;
    return {
      kind: 'token',
      role: stored.role === 'member' ? 'member' : 'admin',
      id: stored.id,
      name: stored.name,
    };
  }

  private fileEntries(): TokenFileEntry[] {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.file).mtimeMs;
    } catch {
      return [];
    }
    if (this.cached?.mtimeMs !== mtimeMs) {
      try {
        this.cached = { mtimeMs, entries: readTokenFile(this.file) };
      } catch {
        this.cached = { mtimeMs, entries: [] };
      }
    }
    return this.cached.entries;
  }
}

function safeEqual(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** True for 127.0.0.0/8 and ::1, including IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain === '::1' || plain.startsWith('127.');
}
