/** Request parsing and response writing with Ollama's (Go/gin) error texts. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OllamaApiError } from './errors.js';

/** Largest request body accepted; big enough for long chats with images. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Reads the whole request body as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new OllamaApiError(413, 'http: request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object from the request body, failing like Go's encoding/json does in Ollama. */
export type JsonObject = Record<string, unknown>;

function goKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** Parses a body into an object; `goType` names the Go request type for error texts. */
export function parseJsonObject(raw: string, goType: string): JsonObject {
  if (raw.trim() === '') throw new OllamaApiError(400, 'missing request body');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    const first = raw.trimStart()[0] ?? '';
    const message = /[[{"\d\-tfn]/.test(first)
      ? 'unexpected EOF'
      : `invalid character '${first}' looking for beginning of value`;
    throw new OllamaApiError(400, message);
  }
  if (goKind(value) !== 'object') {
    throw new OllamaApiError(
      400,
      `json: cannot unmarshal ${goKind(value)} into Go value of type api.${goType}`,
    );
  }
  return value as JsonObject;
}

function typeError(goType: string, field: string, value: unknown, expected: string): OllamaApiError {
  return new OllamaApiError(
    400,
    `json: cannot unmarshal ${goKind(value)} into Go struct field ${goType}.${field} of type ${expected}`,
  );
}

/** An optional string field. */
export function optionalString(body: JsonObject, field: string, goType: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw typeError(goType, field, value, 'string');
  return value;
}

/** An optional boolean field. */
export function optionalBool(body: JsonObject, field: string, goType: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw typeError(goType, field, value, 'bool');
  return value;
}

/** The `options` map, if any. */
export function optionsOf(body: JsonObject, goType: string): JsonObject {
  const value = body.options;
  if (value === undefined || value === null) return {};
  if (goKind(value) !== 'object') throw typeError(goType, 'options', value, 'map[string]interface {}');
  return value as JsonObject;
}

/** `options.num_predict` when set to a positive number. */
export function numPredictOf(options: JsonObject): number | undefined {
  const value = options.num_predict;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new OllamaApiError(400, `option "num_predict" must be of type integer`);
  }
  return value > 0 ? Math.floor(value) : undefined;
}

/** Writes a JSON response with the content type gin uses. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Writes an empty 200, as Ollama does for /api/delete and /api/copy. */
export function sendEmpty(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

/** Writes Ollama's error shape. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    // Mid-stream errors go in-band as one more NDJSON line, as Ollama's streamResponse does.
    if (!res.writableEnded) res.end(`${JSON.stringify({ error: message })}\n`);
    return;
  }
  sendJson(res, status, { error: message });
}

/** Writes a plain-text body, as gin's c.String and its 404/405 pages do. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
