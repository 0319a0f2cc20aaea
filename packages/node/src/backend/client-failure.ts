/**
 * What a failure of the `ollama` client means for the backend. Only a transport failure says
 * the backend is down; the client library also throws (TypeError, RangeError) when it cannot
 * even build the request from its input, and that is the caller's bad request.
 */

/** Socket-level error codes of Node and undici: the request did not get through, or was cut. */
const TRANSPORT_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/** Names of timeout and socket errors (undici's, and AbortSignal.timeout's DOMException). */
const TRANSPORT_NAMES = new Set([
  'TimeoutError',
  'ConnectTimeoutError',
  'SocketError',
  'HeadersTimeoutError',
]);

/**
 * Messages of undici's fetch: "fetch failed" is the spec's network error (any cause, TLS
 * included), "terminated" a response body cut off. Their TypeErrors carry no code of their own.
 */
const TRANSPORT_MESSAGES = /^(fetch failed|terminated)$|socket hang up|other side closed/i;

/** How deep to follow `cause` chains (fetch wraps the socket error once, happy eyeballs twice). */
const MAX_CAUSE_DEPTH = 4;

/** The kind of a client failure: the network, the request itself, or something else. */
export type ClientFailureKind = 'transport' | 'request' | 'other';

/** Classifies an error thrown by the `ollama` client (or the fetch under it). */
export function classifyClientFailure(error: unknown): ClientFailureKind {
  const chain = causeChain(error);
  if (chain.some(isTransport)) return 'transport';
  // Thrown before anything was sent: `images.map is not a function`, a body JSON cannot encode.
  if (error instanceof TypeError || error instanceof RangeError) return 'request';
  return 'other';
}

/** The most telling detail of a transport failure, for logs and the health report. */
export function failureDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string' && cause.message !== '') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function isTransport(error: ErrorLike): boolean {
  if (typeof error.code === 'string' && TRANSPORT_CODES.has(error.code)) return true;
  if (typeof error.name === 'string' && TRANSPORT_NAMES.has(error.name)) return true;
  return error instanceof TypeError && TRANSPORT_MESSAGES.test(String(error.message));
}

type ErrorLike = { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };

function causeChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current = error;
  while (chain.length < MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null) {
    chain.push(current as ErrorLike);
    current = (current as ErrorLike).cause;
  }
  return chain;
}
