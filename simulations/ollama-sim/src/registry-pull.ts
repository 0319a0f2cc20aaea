/**
 * Pulling from a real registry into the store on disk, as PullModel (server/images.go) and
 * blobDownload (server/download.go) do: the manifest with the Docker v2 Accept header, then per
 * layer a HEAD for its size, a GET whose 200/307 answer's Location is the direct URL, and Range
 * parts (up to 16 at once) into `<blob>-partial`, each part's progress kept in
 * `<blob>-partial-<n>` so a later pull resumes it. Only after every blob is whole and its sha256
 * checked is the manifest written, so a cut-off pull never lists a model.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, dirname, join } from 'node:path';
import { OllamaApiError } from './errors.js';
import { installManifest } from './model-from-manifest.js';
import { fullModelName, type ModelName } from './model-name.js';
import { type DiskModelStore, MANIFEST_MEDIA_TYPE, type ManifestJson } from './model-store-disk.js';
import type { InstalledModel } from './models.js';
import type { ProgressStream } from './progress.js';
import type { SimState } from './state.js';

/** numDownloadParts, minDownloadPartSize and maxDownloadPartSize in server/download.go. */
const NUM_DOWNLOAD_PARTS = 16;
const MIN_PART_BYTES = 100 * 1000 * 1000;
const MAX_PART_BYTES = 1000 * 1000 * 1000;
/** Progress lines at most this often per layer, as blobDownload.Wait ticks. */
const PROGRESS_INTERVAL_MS = 60;
/** Bytes gathered before each write of a part to disk, and read at a time to verify a blob. */
const WRITE_BYTES = 1024 * 1024;
/** errMaxRedirectsExceeded's limit on same-host redirects. */
const MAX_REDIRECTS = 10;
/** Statuses Go's http.Client follows. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** blobDownloadPart, as Ollama stores it in `<blob>-partial-<N>`. */
interface Part {
  N: number;
  Offset: number;
  Size: number;
  Completed: number;
}

/** Go's http.ErrNoLocation, which resp.Location() returns for an answer without the header. */
const NO_LOCATION = 'http: no Location header in response';

function registryBase(name: ModelName, insecure: boolean): string {
  return `${insecure ? 'http' : 'https'}://${name.host}/v2/${name.namespace}/${name.model}`;
}

function failure(message: string): OllamaApiError {
  return new OllamaApiError(500, message);
}

/** Go's url.Error text: `Get "<url>": <cause>`, with its words for plain http on a TLS URL. */
function transportError(method: string, url: string, error: unknown): OllamaApiError {
  const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
  const text = /wrong version number|packet length too long/.test(cause)
    ? 'http: server gave HTTP response to HTTPS client'
    : cause;
  return failure(`${method[0]}${method.slice(1).toLowerCase()} "${url}": ${text}`);
}

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    // Only the direct-URL probe stops at redirects; Ollama's other requests follow them.
    return await fetch(url, { redirect: 'follow', ...init });
  } catch (error) {
    throw transportError(init.method ?? 'GET', url, error);
  }
}

/** pullModelManifest with makeRequestWithRetry's error texts. */
async function fetchManifest(base: string, tag: string): Promise<string> {
  const url = `${base}/manifests/${tag}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: MANIFEST_MEDIA_TYPE } });
  } catch (error) {
    throw failure(`pull model manifest: ${transportError('GET', url, error).message}`);
  }
  const body = await response.text();
  if (response.status === 404) throw failure('pull model manifest: file does not exist');
  if (!response.ok) throw failure(`pull model manifest: ${response.status}: ${body}`);
  return body;
}

/** The direct URL: same-host redirects are followed, as download.go's CheckRedirect allows. */
async function directUrl(blobUrl: string): Promise<string> {
  let url = blobUrl;
  for (let hops = 0; hops <= MAX_REDIRECTS; hops++) {
    const response = await request(url, { method: 'GET', redirect: 'manual' });
    await response.body?.cancel();
    if (response.status !== 307 && response.status !== 200) {
      throw failure(`unexpected status code ${response.status}`);
    }
    const location = response.headers.get('location');
    if (location === null) throw failure(NO_LOCATION);
    const next = new URL(location, url);
    if (response.status !== 307 || next.hostname !== new URL(url).hostname) return next.toString();
    url = next.toString();
  }
  throw failure('maximum redirects exceeded (10) for directURL');
}

function partPaths(blobPath: string): string[] {
  const prefix = `${basename(blobPath)}-partial-`;
  return readdirSync(dirname(blobPath))
    .filter((file) => file.startsWith(prefix))
    .map((file) => join(dirname(blobPath), file));
}

/** The parts kept by an earlier pull, in order; undefined when one is unreadable. */
function readParts(blobPath: string): Part[] | undefined {
  try {
    const parts = partPaths(blobPath).map((path) => JSON.parse(readFileSync(path, 'utf8')) as Part);
    const sound = parts.every((part) =>
      [part.N, part.Offset, part.Size, part.Completed].every((n) => Number.isSafeInteger(n) && n >= 0),
    );
    return sound ? parts.sort((a, b) => a.N - b.N) : undefined;
  } catch {
    return undefined;
  }
}

/** Prepare: the parts kept from an earlier pull, or new ones after a HEAD for the size. */
async function prepareParts(blobPath: string, blobUrl: string): Promise<Part[]> {
  const kept = readParts(blobPath);
  if (kept !== undefined && kept.length > 0 && existsSync(`${blobPath}-partial`)) return kept;
  // Parts that cannot be resumed are dropped: the blob starts over cleanly.
  for (const path of partPaths(blobPath)) rmSync(path, { force: true });
  const head = await request(blobUrl, { method: 'HEAD' });
  if (head.status === 404) throw failure('file does not exist');
  if (!head.ok) throw failure(`${head.status}: ${head.statusText}`);
  const total = Number(head.headers.get('content-length') ?? '0');
  const size = Math.min(MAX_PART_BYTES, Math.max(MIN_PART_BYTES, Math.floor(total / NUM_DOWNLOAD_PARTS)));
  const parts: Part[] = [];
  for (let offset = 0; offset < total; offset += size) {
    parts.push({ N: parts.length, Offset: offset, Size: Math.min(size, total - offset), Completed: 0 });
  }
  writeFileSync(`${blobPath}-partial`, '');
  for (const part of parts) writeFileSync(`${blobPath}-partial-${part.N}`, JSON.stringify(part));
  return parts;
}

/**
 * A Range GET on node:http, following redirects as Go's client does. The bytes of a part are read
 * as a Node stream: fetch's WebStream reader cost the simulator more CPU per byte than the copy
 * it stands for.
 */
function rangeRequest(url: string, range: string, hops = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'GET', headers: { Range: range } }, (res) => {
      const location = res.headers.location;
      if (res.statusCode !== undefined && REDIRECTS.has(res.statusCode) && location !== undefined) {
        res.resume();
        if (hops >= MAX_REDIRECTS) {
          reject(failure(`maximum redirects exceeded (${MAX_REDIRECTS})`));
          return;
        }
        rangeRequest(new URL(location, target).toString(), range, hops + 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.on('error', (error) => reject(transportError('GET', url, error)));
    req.end();
  });
}

/** downloadChunk: one Range request written at its offset, its progress saved as it goes. */
async function downloadPart(
  blobPath: string,
  url: string,
  part: Part,
  progress: ProgressStream,
  onBytes: (n: number) => void,
): Promise<void> {
  const start = part.Offset + part.Completed;
  const response = await rangeRequest(url, `bytes=${start}-${part.Offset + part.Size - 1}`);
  if (response.statusCode !== 206 && response.statusCode !== 200) {
    response.destroy();
    throw failure(`unexpected status code ${response.statusCode}`);
  }
  const file = await open(`${blobPath}-partial`, 'r+');
  const partPath = `${blobPath}-partial-${part.N}`;
  // Progress is saved on a tick, as downloadChunk's writePart does, and always when it stops.
  let savedAt = performance.now();
  // Received bytes are written in runs of WRITE_BYTES: one write per network read cost the
  // simulator more CPU than the copy it stands for (Go's io.Copy pays nothing like a libuv round
  // trip per write). What counts as completed is what reached the file, as in Ollama.
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  const flush = async () => {
    if (heldBytes === 0) return;
    const bytes = heldBytes;
    await file.writev(held.splice(0), part.Offset + part.Completed);
    heldBytes = 0;
    part.Completed += bytes;
    if (performance.now() - savedAt >= PROGRESS_INTERVAL_MS) {
      writeFileSync(partPath, JSON.stringify(part));
      savedAt = performance.now();
    }
    onBytes(bytes);
  };
  try {
    const chunks = response[Symbol.asyncIterator]();
    while (part.Completed + heldBytes < part.Size) {
      if (!progress.alive) {
        await flush();
        response.destroy();
        return;
      }
      let chunk: IteratorResult<Buffer>;
      try {
        chunk = await chunks.next();
      } catch {
        await flush();
        throw failure('unexpected EOF');
      }
      if (chunk.done === true) {
        await flush();
        throw failure('unexpected EOF');
      }
      const bytes = chunk.value.subarray(0, part.Size - part.Completed - heldBytes);
      held.push(bytes);
      heldBytes += bytes.length;
      if (heldBytes >= WRITE_BYTES) await flush();
    }
    await flush();
    response.destroy();
  } finally {
    await file.close();
    writeFileSync(partPath, JSON.stringify(part));
  }
}

/** Downloads in progress per store and digest: blobDownloadManager lets one run per blob. */
const downloading = new WeakMap<DiskModelStore, Map<string, Promise<unknown>>>();

/** downloadBlob, one at a time per blob: a second pull waits, then finds the blob or the parts. */
async function downloadBlob(
  disk: DiskModelStore,
  base: string,
  layer: { digest: string; size: number },
  progress: ProgressStream,
): Promise<boolean | undefined> {
  const running = downloading.get(disk) ?? new Map<string, Promise<unknown>>();
  downloading.set(disk, running);
  for (let other = running.get(layer.digest); other !== undefined; other = running.get(layer.digest)) {
    await other.catch(() => undefined);
  }
  const mine = downloadOneBlob(disk, base, layer, progress);
  running.set(layer.digest, mine);
  try {
    return await mine;
  } finally {
    if (running.get(layer.digest) === mine) running.delete(layer.digest);
  }
}

/** One blob: true when it was on disk already (a cache hit, not verified again). */
async function downloadOneBlob(
  disk: DiskModelStore,
  base: string,
  layer: { digest: string; size: number },
  progress: ProgressStream,
): Promise<boolean | undefined> {
  const status = `pulling ${layer.digest.slice(7, 19)}`;
  const blobPath = disk.blobPath(layer.digest);
  if (disk.hasBlob(layer.digest)) {
    progress.emit({ status, digest: layer.digest, total: layer.size, completed: layer.size });
    return true;
  }
  const blobUrl = `${base}/blobs/${layer.digest}`;
  const parts = await prepareParts(blobPath, blobUrl);
  const total = parts.reduce((sum, part) => sum + part.Size, 0);
  let completed = parts.reduce((sum, part) => sum + part.Completed, 0);
  let shownAt = 0;
  const show = (force: boolean) => {
    const now = performance.now();
    if (!force && now - shownAt < PROGRESS_INTERVAL_MS) return;
    shownAt = now;
    progress.emit({ status, digest: layer.digest, total, completed });
  };
  show(true);
  const url = await directUrl(blobUrl);
  const pending = parts.filter((part) => part.Completed < part.Size);
  // errgroup.SetLimit(numDownloadParts): at most 16 parts in flight.
  const workers = Array.from({ length: Math.min(NUM_DOWNLOAD_PARTS, pending.length) }, async () => {
    for (let part = pending.shift(); part !== undefined; part = pending.shift()) {
      await downloadPart(blobPath, url, part, progress, (n) => {
        completed += n;
        show(false);
      });
    }
  });
  await Promise.all(workers);
  if (!progress.alive) return undefined;
  renameSync(`${blobPath}-partial`, blobPath);
  for (const path of partPaths(blobPath)) rmSync(path, { force: true });
  show(true);
  return false;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: WRITE_BYTES })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(`sha256:${hash.digest('hex')}`));
  });
}

/** The manifest a registry sent, refused unless every digest is one BlobsPath accepts. */
function parseManifest(bytes: string): ManifestJson {
  let value: unknown;
  try {
    value = JSON.parse(bytes);
  } catch (error) {
    throw failure(`pull model manifest: ${(error as Error).message}`);
  }
  const manifest = value as Partial<ManifestJson> | null;
  const layers = Array.isArray(manifest?.layers) ? manifest.layers : undefined;
  const config = manifest?.config ?? { mediaType: '', digest: '', size: 0 };
  if (layers === undefined) throw failure('pull model manifest: manifest has no layers');
  for (const layer of [...layers, ...(config.digest !== '' ? [config] : [])]) {
    // Digests name files: anything else could reach outside the blobs directory.
    if (typeof layer?.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) {
      throw failure('invalid digest format');
    }
    if (typeof layer.size !== 'number' || !Number.isSafeInteger(layer.size) || layer.size < 0) {
      throw failure(`invalid size for layer ${layer.digest}`);
    }
  }
  return { ...(manifest as ManifestJson), layers, config };
}

/** PullModel from `name`'s own registry; undefined when the client left. */
export async function pullFromRegistry(
  state: SimState,
  progress: ProgressStream,
  name: ModelName,
  insecure: boolean,
): Promise<InstalledModel | undefined> {
  const disk = state.store.disk!.store;
  progress.emit({ status: 'pulling manifest' });
  const base = registryBase(name, insecure);
  const bytes = await fetchManifest(base, name.tag);
  const manifest = parseManifest(bytes);
  const layers = [...manifest.layers, ...(manifest.config.digest !== '' ? [manifest.config] : [])];
  const cacheHits = new Map<string, boolean>();
  for (const layer of layers) {
    const hit = await downloadBlob(disk, base, layer, progress);
    if (hit === undefined) return undefined;
    cacheHits.set(layer.digest, (cacheHits.get(layer.digest) ?? true) && hit);
  }
  progress.emit({ status: 'verifying sha256 digest' });
  for (const layer of layers) {
    if (cacheHits.get(layer.digest)) continue;
    const path = disk.blobPath(layer.digest);
    const actual = await sha256File(path);
    if (actual !== layer.digest) {
      rmSync(path, { force: true });
      throw failure(`digest mismatch, file must be downloaded again: want ${layer.digest}, got ${actual}`);
    }
  }
  progress.emit({ status: 'writing manifest' });
  const entry = installManifest(state.store, fullModelName(name), bytes);
  progress.emit({ status: 'success' });
  return entry;
}
