import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every token starts with this, so a leaked one is easy to recognise in logs and code. */
export const TOKEN_PREFIX = 'alr_';

/** A fresh random token; only its hash is ever stored. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 of a token: tokens are long random strings, so a fast hash is enough. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Compares two hashes in constant time. */
export function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
