/**
 * Device keys in the base URL: `http://node:8080/k/<key>` with `/api` and `/v1` beneath it, for
 * clients that cannot send a bearer token (the `ollama` CLI, Home Assistant). Fastify's
 * `rewriteUrl` strips the prefix before routing and keeps the key beside the raw request, so the
 * router, the access policy, the logs and every error message see the plain path only.
 */
import type { IncomingMessage } from 'node:http';
import { DEVICE_KEY_PATTERN } from './token-secret.js';

/** What a `/k/<key>` prefix is replaced by wherever a URL is echoed. */
export const REDACTED_KEY = '<key>';

/** The key of each request that came under `/k/<key>`; a WeakMap, so it leaves with the request. */
const DEVICE_KEYS = new WeakMap<IncomingMessage, string>();

/**
 * `/k/<segment>` at the start of a path, however the `k` is spelled (`/K/`, `/%6b/`): the first
 * segment is what may hold a key, so it is what gets redacted. Absolute-form targets included.
 */
const KEY_PREFIX = /^((?:[a-z][a-z0-9+.-]*:\/\/[^/?#]*)?)\/(?:k|%6b|%4b)\/[^/?#]*/i;

/** Anything shaped like a token or a device key, wherever it sits in a URL. */
const SECRET_LIKE = /alrk?_[A-Za-z0-9_%-]*/g;

/** What lies under `/k/<key>`: the client APIs and the root Ollama clients probe, nothing else. */
const SERVED_UNDER_KEY = /^(?:\/?(?:\?.*)?|\/(?:api|v1)\/.*)$/s;

/** The parts of a URL under a valid device prefix, or undefined when it has none. */
export function splitDeviceUrl(url: string): { key: string; url: string } | undefined {
  if (!url.startsWith('/k/')) return undefined;
  const end = url.slice(3).search(/[/?]/);
  const key = end === -1 ? url.slice(3) : url.slice(3, 3 + end);
  const rest = end === -1 ? '' : url.slice(3 + end);
  if (!DEVICE_KEY_PATTERN.test(key) || !SERVED_UNDER_KEY.test(rest)) return undefined;
  return { key, url: rest.startsWith('/') ? rest : `/${rest}` };
}

/** A URL with its `/k/<key>` prefix, if it has one, redacted. */
export function redactDeviceKey(url: string): string {
  return url.replace(KEY_PREFIX, `$1/k/${REDACTED_KEY}`);
}

/**
 * A URL fit to echo in a message: its `/k/<key>` prefix and anything shaped like a token or key,
 * wherever it sits (`//k/<key>`), redacted.
 */
export function redactSecrets(url: string): string {
  return redactDeviceKey(url).replace(SECRET_LIKE, REDACTED_KEY);
}

/**
 * Fastify's `rewriteUrl`: a request under a valid `/k/<key>` prefix continues as the path beneath
 * it, with the key kept for the access check. Any other `/k/...` URL (a bad key, a percent-encoded
 * or upper-case prefix, a management path beneath a key) continues with its key redacted, matches
 * no route, and gets a 404 that cannot echo the key.
 */
export function rewriteDeviceUrl(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const split = splitDeviceUrl(url);
  // Fastify keeps the URL as written on `originalUrl`; it must not keep the key there either.
  const raw = request as IncomingMessage & { originalUrl?: string };
  if (split !== undefined) {
    DEVICE_KEYS.set(request, split.key);
    raw.originalUrl = `/k/${REDACTED_KEY}${split.url === '/' ? '' : split.url}`;
    return split.url;
  }
  const redacted = redactDeviceKey(url);
  if (redacted !== url) raw.originalUrl = redacted;
  return redacted;
}

/** The device key a request came with in its URL, if any. */
export const deviceKeyOf = (request: IncomingMessage): string | undefined => DEVICE_KEYS.get(request);
