import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every token starts with this, so a leaked one is easy to recognise in logs and code. */
export const TOKEN_PREFIX = 'alr_';

/**
 * Every device key starts with this. A device key travels inside a base URL (`/k/<key>`), which
 * clients write to their logs and settings more freely than a header, so it is a credential of its
 * own kind: it opens the Ollama and OpenAI APIs only, and is never accepted as a bearer token.
 */
export const DEVICE_KEY_PREFIX = 'alrk_';

/** The exact shape of a device key: the prefix and 32 random bytes in base64url. */
export const DEVICE_KEY_PATTERN = /^alrk_[A-Za-z0-9_-]{43}$/;

/** A fresh random device key; only its hash is ever stored. */
export function generateDeviceKey(): string {
  return `${DEVICE_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

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
