/**
 * A streamed POST to Ollama on `node:http`, read as NDJSON. The `ollama` client reads streams
 * through fetch and WebStreams and splits lines on a growing string; per forwarded token that cost
 * more CPU than the rest of the node's proxy path (docs/benchmarks.md, #15). This keeps the
 * client's observable behaviour (see ollama-backend.ts): the same errors for an HTTP error, an
 * `{"error"}` line, a stream without its final object, and unparseable lines skipped.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { OllamaObject } from './backend.js';

const NEWLINE = 0x0a;

/**
 * Each object's line as Ollama sent it, so an Ollama API client gets those bytes again instead of a
 * re-encoding. Held under a symbol, which JSON and key listings skip: a WeakMap entry per token
 * cost more than the parse (and its ephemerons more in GC). A copy (`{ ...chunk, more }`) carries
 * the symbol too, but names another object, so it is encoded afresh. Nothing changes a chunk in
 * place on its way out (the gateway only reads them).
 */
const LINE: unique symbol = Symbol('ollama line');

interface ParsedLine {
  readonly of: object;
  readonly line: string;
}

/** The line `object` was parsed from, when it came from Ollama unchanged. */
export function ollamaLine(object: object): string | undefined {
  const parsed = (object as { [LINE]?: ParsedLine })[LINE];
  return parsed?.of === object ? parsed.line : undefined;
}

/** Ollama's HTTP error, as the `ollama` client's ResponseError carries it. */
export class NdjsonResponseError extends Error {
  override name = 'ResponseError';
  constructor(
    readonly error: string,
    readonly status_code: number,
  ) {
    super(error);
  }
}

/**
 * Sends `body` to `url` and resolves once the response headers arrived with a 2xx, with the
 * stream's objects in the batches that the socket's reads delivered (never an empty one). A
 * failure to connect rejects with an Error whose `cause` is the socket error.
 */
export async function postNdjson(
  url: string,
  body: string,
  signal: AbortSignal,
): Promise<AsyncIterable<readonly OllamaObject[]>> {
  const response = await send(url, body, signal);
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) throw await responseError(response);
  return batches(response);
}

/**
 * Posts `body` and resolves with the response. A kept-alive connection that the server closed as
 * this request went out fails with ECONNRESET before any answer; the request is then sent once
 * more on a new connection, as Node's documentation advises (`request.reusedSocket`): the server
 * had not taken it. A server that closes idle connections (a proxy in front of Ollama, a
 * keep-alive timeout) would otherwise fail a chat and mark Ollama unreachable at random.
 */
function send(url: string, body: string, signal: AbortSignal, retried = false): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/x-ndjson',
        'Content-Length': Buffer.byteLength(body),
      },
      signal,
    });
    request.once('response', resolve);
    request.once('error', (error: NodeJS.ErrnoException) => {
      // An abort rejects with the signal's reason, as fetch does; the caller checks its signal.
      if (signal.aborted) reject(signal.reason);
      else if (!retried && request.reusedSocket && error.code === 'ECONNRESET')
        resolve(send(url, body, signal, true));
      else reject(new Error(`request to ${url} failed`, { cause: error }));
    });
    request.end(body);
  });
}

async function responseError(response: IncomingMessage): Promise<NdjsonResponseError> {
  const status = response.statusCode ?? 0;
  const parts: Buffer[] = [];
  for await (const part of response) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  let message = text === '' ? `Error ${status}: ${response.statusMessage ?? ''}` : text;
  if (String(response.headers['content-type'] ?? '').includes('application/json')) {
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === 'string' && parsed.error !== '') message = parsed.error;
    } catch {
      // Not JSON after all: the text is the message.
    }
  }
  return new NdjsonResponseError(message, status);
}

/**
 * The objects of an NDJSON body, one batch per socket read, ending after the first `done` or
 * `status: success` object. An `{"error"}` line throws a plain Error with its text (after the
 * batch before it), and a body that ends before its final object throws too: both as the
 * `ollama` client does. A batch per read rather than an object: every async layer between Ollama
 * and the client then costs its promises once per read, not once per token (at 8 streams of
 * 5,000 tok/s a read carries about 9 tokens; docs/benchmarks.md, #15).
 */
async function* batches(response: IncomingMessage): AsyncGenerator<readonly OllamaObject[]> {
  const splitter = new LineSplitter();
  let final = false;
  try {
    // Leaving the loop at the final object must not destroy the response (see finally).
    for await (const piece of response.iterator({ destroyOnReturn: false })) {
      const batch = objectsOf(splitter.push(piece as Buffer));
      if (batch.objects.length > 0) yield batch.objects;
      if (batch.error !== undefined) throw batch.error;
      if (batch.final) {
        final = true;
        return;
      }
    }
    const batch = objectsOf(splitter.end());
    if (batch.objects.length > 0) yield batch.objects;
    if (batch.error !== undefined) throw batch.error;
    if (batch.final) {
      final = true;
      return;
    }
    throw new Error('Did not receive done or success response in stream.');
  } finally {
    // After the final object only the body's end is left: read it, so the connection goes back to
    // the agent's pool for the next chat (a new TCP connection per chat cost ~0.5 ms of its
    // time to first token). Anything else (a consumer that left early, an error) cuts the
    // connection, which is what stops Ollama generating.
    if (final) response.resume();
    else response.destroy();
  }
}

/** The objects of some lines, up to the final one or an error line (whose error is returned). */
function objectsOf(lines: readonly string[]): { objects: OllamaObject[]; final: boolean; error?: Error } {
  const objects: OllamaObject[] = [];
  for (const line of lines) {
    let object: OllamaObject | undefined;
    try {
      object = parseLine(line);
    } catch (error) {
      return { objects, final: false, error: error as Error };
    }
    if (object === undefined) continue;
    objects.push(object);
    if (isFinal(object)) return { objects, final: true };
  }
  return { objects, final: false };
}

/** One line's object; undefined for a line that is not JSON; throws the text of an error line. */
function parseLine(line: string): OllamaObject | undefined {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof message === 'object' && message !== null) {
    if ('error' in message) throw new Error(String((message as OllamaObject).error));
    (message as { [LINE]?: ParsedLine })[LINE] = { of: message, line };
  }
  return message as OllamaObject;
}

function isFinal(object: OllamaObject): boolean {
  return (
    typeof object === 'object' && object !== null && (object.done === true || object.status === 'success')
  );
}

/**
 * Cuts a byte stream into its non-empty lines. Lines are cut on bytes, so a character split across
 * two reads is decoded whole; one read that holds several lines gives them all at once.
 */
export class LineSplitter {
  private pending: Buffer | undefined;

  /** The lines that `piece` completes. */
  push(piece: Uint8Array): string[] {
    let data = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const found: string[] = [];
    let start = 0;
    let end = data.indexOf(NEWLINE);
    if (end !== -1 && this.pending !== undefined) {
      end += this.pending.length;
      data = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    while (end !== -1) {
      if (end > start) found.push(data.toString('utf8', start, end));
      start = end + 1;
      end = data.indexOf(NEWLINE, start);
    }
    if (start < data.length) {
      // A copy: the read's buffer is not held on to for a partial line.
      const rest = Buffer.from(data.subarray(start));
      this.pending = this.pending === undefined ? rest : Buffer.concat([this.pending, rest]);
    }
    return found;
  }

  /** The last line, when the stream ended without a newline after it. */
  end(): string[] {
    const rest = this.pending;
    this.pending = undefined;
    return rest === undefined || rest.length === 0 ? [] : [rest.toString('utf8')];
  }
}
