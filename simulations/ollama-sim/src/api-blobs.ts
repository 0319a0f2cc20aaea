/**
 * HEAD and POST /api/blobs/:digest (HeadBlobHandler, CreateBlobHandler in server/routes.go): a
 * digest must be `sha256:<64 hex>` (or `sha256-`); an upload is hashed as it streams in, kept
 * only if its sha256 is exactly the digest named, and answered 201; one already present is 200.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DIGEST_PATTERN } from './blobs.js';
import { OllamaApiError } from './errors.js';
import { sendJson } from './http-util.js';
import type { SimState } from './state.js';

/** manifest.ErrInvalidDigestFormat. */
const INVALID_DIGEST = 'invalid digest format';
/** Bytes of an upload kept for sniffing (a GGUF header starts with its magic). */
const HEAD_BYTES = 8;

function checkDigest(digest: string): void {
  if (!DIGEST_PATTERN.test(digest)) throw new OllamaApiError(400, INVALID_DIGEST);
}

function sendStatus(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

/** HEAD /api/blobs/:digest. */
export function handleHeadBlob(state: SimState, res: ServerResponse, digest: string): void {
  checkDigest(digest);
  if (!state.store.blobs.has(digest))
    throw new OllamaApiError(404, `blob ${JSON.stringify(digest)} not found`);
  sendStatus(res, 200);
}

/** POST /api/blobs/:digest. */
export async function handleCreateBlob(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  digest: string,
): Promise<void> {
  checkDigest(digest);
  if (state.store.blobs.has(digest)) {
    req.resume();
    sendStatus(res, 200);
    return;
  }
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLength = 0;
  let size = 0;
  // With a store on disk the upload is written as it arrives and filed under its true digest.
  const upload = state.store.disk?.store.startUpload();
  try {
    for await (const chunk of req) {
      const buffer = chunk as Buffer;
      upload?.write(buffer);
      hash.update(buffer);
      size += buffer.length;
      if (headLength < HEAD_BYTES) {
        head.push(buffer.subarray(0, HEAD_BYTES - headLength));
        headLength += Math.min(buffer.length, HEAD_BYTES - headLength);
      }
    }
  } catch (error) {
    upload?.abort();
    throw error;
  }
  const actual = `sha256:${hash.digest('hex')}`;
  upload?.finish(actual);
  // NewLayer files the upload under its true digest before the handler compares the names.
  state.store.blobs.put(actual, { size, head: Buffer.concat(head) });
  // The comparison is of the strings as given, so only the canonical spelling can match.
  if (actual !== digest) {
    sendJson(res, 400, {
      error: `digest mismatch, expected ${JSON.stringify(digest)}, got ${JSON.stringify(actual)}`,
    });
    return;
  }
  sendStatus(res, 201);
}
