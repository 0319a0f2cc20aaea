import { statSync } from 'node:fs';
import type { TokenRepository } from '../store/token-repository.js';
import { readTokenFile, type TokenFileEntry, tokenFilePath } from './token-file.js';
import { isExpired } from './token-lifetime.js';
import { DEVICE_KEY_PATTERN, hashToken, sameHash, TOKEN_PREFIX } from './token-secret.js';

export { ADMIN_TOKEN_FILE, issueAdminToken } from './token-file.js';
export {
  DEVICE_KEY_PREFIX,
  generateDeviceKey,
  generateToken,
  hashToken,
  TOKEN_PREFIX,
} from './token-secret.js';

/** Who is making a request, once authenticated. */
export interface Principal {
  kind: 'loopback' | 'token' | 'session';
  role: 'admin' | 'member';
  /** Token id or user id. */
  id?: string;
  name?: string;
}

/**
 * Checks bearer tokens against the token file (re-read when it is replaced) and the database, and
 * device keys against the database. Expired and revoked ones are refused, whichever holds them;
 * a device key is never a bearer token, nor a bearer token a device key.
 */
export class TokenVerifier {
  private cached: { key: string; entries: TokenFileEntry[] } | undefined;
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly tokens: TokenRepository,
  ) {
    this.file = tokenFilePath(dataDir);
  }

  /** The principal a token belongs to, or undefined when it is unknown, expired or revoked. */
  async verify(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const hash = hashToken(token);
    const fromFile = this.fileEntries().find((entry) => sameHash(entry.hash, hash));
    if (fromFile !== undefined) {
      if (fromFile.revokedAt !== undefined || isExpired(fromFile.expiresAt)) return undefined;
      return { kind: 'token', role: 'admin', id: fromFile.id, name: fromFile.name };
    }
    const stored = await this.tokens.useByHash(hash);
    if (stored === undefined) return undefined;
    return {
      kind: 'token',
      role: stored.role === 'member' ? 'member' : 'admin',
      id: stored.id,
      name: stored.name,
    };
  }

  /** The principal a device key (from a `/k/<key>` URL) belongs to, or undefined when it is unknown, expired or revoked. */
  async verifyDeviceKey(key: string): Promise<Principal | undefined> {
    if (!DEVICE_KEY_PATTERN.test(key)) return undefined;
    const stored = await this.tokens.useByHash(hashToken(key), true);
    if (stored === undefined) return undefined;
    return {
      kind: 'token',
      role: stored.role === 'admin' ? 'admin' : 'member',
      id: stored.id,
      name: stored.name,
    };
  }

  private fileEntries(): TokenFileEntry[] {
    let key: string;
    try {
      // Writers replace the file by rename, so the inode tells a new version even within one mtime tick.
      const stat = statSync(this.file);
      key = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return [];
    }
    if (this.cached?.key !== key) {
      try {
        this.cached = { key, entries: readTokenFile(this.file) };
      } catch {
        this.cached = { key, entries: [] };
      }
    }
    return this.cached.entries;
  }
}

/** True for 127.0.0.0/8 and ::1, including IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain === '::1' || plain.startsWith('127.');
}
