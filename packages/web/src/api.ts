/** The UI's HTTP client: same-origin fetch with the session cookie and the CSRF header. */
import type { ChatChunk } from '@allerac/node';

/** An HTTP error answered by the node, with its status and message. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** Called when the node says the session is gone (401), so the app can show the login page. */
let onUnauthorized: () => void = () => {};
/** Sets what happens on a 401. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** The CSRF token the node put in a script-readable cookie at login. */
export function csrfToken(): string {
  const match = /(?:^|;\s*)allerac_csrf=([^;]*)/.exec(document.cookie);
  return match?.[1] === undefined ? '' : decodeURIComponent(match[1]);
}

/** Headers every state-changing request carries. */
export function writeHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken(), ...extra };
}

async function errorOf(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: string | { message?: string } };
    if (typeof body.error === 'string') message = body.error;
    else if (body.error?.message !== undefined) message = body.error.message;
  } catch {
    // Not JSON: keep the status line.
  }
  const retry = Number(response.headers.get('Retry-After'));
  return new ApiError(response.status, message, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

/** Sends a request; JSON in and out. Throws ApiError for any non-2xx answer. */
export async function api<T = unknown>(
  path: string,
  options: {
    method?: string;
    body?: unknown;
    signal?: AbortSignal;
    headers?: Record<string, string>;
    /** A 401 here answers the request (a wrong current password), it does not mean the session is gone. */
    answers401?: boolean;
  } = {},
): Promise<T> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: method === 'GET' ? (options.headers ?? {}) : writeHeaders(options.headers),
  };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  if (options.signal !== undefined) init.signal = options.signal;
  const response = await fetch(path, init);
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !path.startsWith('/auth/') && options.answers401 !== true)
      onUnauthorized();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('Content-Type') ?? '';
  return (type.includes('json') ? await response.json() : await response.text()) as T;
}

/** Sends a file as the body (a document import), of its own type; JSON out. Throws ApiError. */
export async function upload<T = unknown>(path: string, file: Blob): Promise<T> {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: writeHeaders({ 'Content-Type': file.type === '' ? 'application/octet-stream' : file.type }),
    body: file,
  });
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401) onUnauthorized();
    throw error;
  }
  return (await response.json()) as T;
}

/** A request whose answer is optional: 404 (the feature has not landed on this node) gives undefined. */
export async function optionalApi<T>(path: string): Promise<T | undefined> {
  try {
    return await api<T>(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Posts and reads a server-sent-events answer, calling the handler of each event that has one;
 * `Events` maps the route's event names to their data (from the contract, such as `PullEvents`).
 */
export async function postSse<Events extends object>(
  path: string,
  body: unknown,
  handlers: { [E in keyof Events]?: (data: Events[E]) => void },
  signal?: AbortSignal,
): Promise<void> {
  const init: RequestInit = {
    method: 'POST',
    credentials: 'same-origin',
    headers: writeHeaders(),
    body: JSON.stringify(body),
  };
  if (signal !== undefined) init.signal = signal;
  const response = await fetch(path, init);
  if (!response.ok || response.body === null) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      const handler = (handlers as Record<string, ((data: unknown) => void) | undefined>)[event];
      if (data.length > 0) handler?.(JSON.parse(data.join('\n')));
      end = buffer.indexOf('\n\n');
    }
  }
}

/** What a chat's response headers say before its first token. */
export interface ChatStart {
  /** The node chosen to serve (X-Allerac-Node, decoded). */
  node: string | null;
  /** Whether that node holds the model in memory already (X-Allerac-Model-State). */
  modelState: 'loaded' | 'cold' | null;
  conversationId: string | null;
}

/**
 * Streams an Ollama chat through the node; calls `onStart` once the headers arrive and `onChunk`
 * per NDJSON line.
 */
export async function streamChat(
  body: { model: string; messages: Array<{ role: string; content: string }> },
  conversationId: string | undefined,
  onChunk: (chunk: ChatChunk) => void,
  signal?: AbortSignal,
  onStart?: (start: ChatStart) => void,
): Promise<{ node: string | null; conversationId: string | null }> {
  const headers = writeHeaders(
    conversationId === undefined ? {} : { 'X-Allerac-Conversation': conversationId },
  );
  const init: RequestInit = {
    method: 'POST',
    credentials: 'same-origin',
    headers,
    body: JSON.stringify({ ...body, stream: true }),
  };
  if (signal !== undefined) init.signal = signal;
  const response = await fetch('/api/chat', init);
  if (!response.ok || response.body === null) throw await errorOf(response);
  const state = response.headers.get('X-Allerac-Model-State');
  onStart?.({
    node: nodeFromHeader(response.headers.get('X-Allerac-Node')),
    modelState: state === 'loaded' || state === 'cold' ? state : null,
    conversationId: response.headers.get('X-Allerac-Conversation'),
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end = buffer.indexOf('\n');
    while (end >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line !== '') {
        const chunk = JSON.parse(line) as ChatChunk;
        if (chunk.error !== undefined) throw new ApiError(502, chunk.error);
        onChunk(chunk);
      }
      end = buffer.indexOf('\n');
    }
  }
  return {
    node: nodeFromHeader(response.headers.get('X-Allerac-Node')),
    conversationId: response.headers.get('X-Allerac-Conversation'),
  };
}

/** The node's name from X-Allerac-Node, which carries it percent-encoded (docs/clients.md). */
export function nodeFromHeader(value: string | null): string | null {
  if (value === null) return null;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Formats a byte count for people, in the UI language (kept here for the pages that import it). */
export { formatBytes } from './format.js';
