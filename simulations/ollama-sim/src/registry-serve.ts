/**
 * The store on disk served as a registry (the Docker v2 API Ollama pulls from): manifests by
 * namespace, model and tag, and blobs with HEAD for the size and Range for the parts. The plain
 * GET of a blob answers 200 with a Location naming itself: download.go takes resp.Location() of
 * that answer as the direct URL, and follows a 307 only to another host, so a same-host 307
 * would end on a 200 without Location and fail.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { shortName } from './model-from-manifest.js';
import { MANIFEST_MEDIA_TYPE } from './model-store-disk.js';
import type { SimState } from './state.js';

/** `/v2/<namespace>/<model>/manifests/<tag>` and `/v2/<namespace>/<model>/blobs/<digest>`. */
const REGISTRY_ROUTE = /^\/v2\/([^/]+)\/([^/]+)\/(manifests|blobs)\/([^/]+)$/;

function registryError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** `bytes=a-b` (or `bytes=a-`) within `size`, or undefined when absent or unsatisfiable. */
function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (match === null) return undefined;
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start <= end ? [start, end] : undefined;
}

/** Answers a registry request; false when the path is not one. */
export function handleRegistry(
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): boolean {
  const disk = state.store.disk?.store;
  const match = REGISTRY_ROUTE.exec(path);
  const method = req.method ?? 'GET';
  if (disk === undefined || match === null || (method !== 'GET' && method !== 'HEAD')) return false;
  const [, namespace, model, kind, ref] = match as unknown as [string, string, string, string, string];
  if (kind === 'manifests') {
    const entry = state.store.find(shortName(`${namespace}/${model}:${ref}`));
    const found = entry !== undefined ? disk.readManifest(entry.name) : undefined;
    if (found === undefined) {
      registryError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      return true;
    }
    res.writeHead(200, {
      'Content-Type': MANIFEST_MEDIA_TYPE,
      'Content-Length': Buffer.byteLength(found.bytes),
    });
    res.end(method === 'HEAD' ? undefined : found.bytes);
    return true;
  }
  const size = /^sha256[:-][0-9a-fA-F]{64}$/.test(ref) ? disk.blobSize(ref) : undefined;
  if (size === undefined) {
    registryError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    return true;
  }
  const range = parseRange(req.headers.range, size);
  if (req.headers.range !== undefined && range === undefined) {
    res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
    res.end();
    return true;
  }
  const [start, end] = range ?? [0, size - 1];
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/octet-stream',
    'Content-Length': end - start + 1,
    'Accept-Ranges': 'bytes',
    'Docker-Content-Digest': `sha256:${ref.slice(7)}`,
  };
  if (range !== undefined) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  else if (method === 'GET') headers.Location = `http://${req.headers.host ?? 'localhost'}${req.url ?? path}`;
  res.writeHead(range !== undefined ? 206 : 200, headers);
  if (method === 'HEAD' || size === 0) {
    res.end();
    return true;
  }
  createReadStream(disk.blobPath(ref), { start, end, highWaterMark: 1024 * 1024 }).pipe(res);
  return true;
}
