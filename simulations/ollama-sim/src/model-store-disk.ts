/**
 * A model store on disk in Ollama's own layout (manifest/paths.go): `manifests/<host>/<namespace>/
 * <model>/<tag>` holding Docker v2 schema 2 JSON, and `blobs/sha256-<hex>` holding the layers,
 * each named by its true sha256. Blobs are written to a partial file and renamed, so a blob file
 * that exists is always whole.
 */
import { createCipheriv, createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { GGUF_MAGIC } from './blobs.js';
import type { Layer } from './manifest.js';
import { type ModelName, parseModelName } from './model-name.js';

/** Media type of an Ollama manifest (Docker v2 schema 2). */
export const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

/** Size of a model's weights blob when `modelBytes` is not given: small, so tests write it at once. */
export const DEFAULT_MODEL_BYTES = 64 * 1024;

/** Weights are generated in slices of this size, so large blobs never sit in memory whole. */
const GENERATE_CHUNK_BYTES = 1024 * 1024;

/** A manifest as Ollama writes it. */
export interface ManifestJson {
  schemaVersion: 2;
  mediaType: string;
  config: Layer;
  layers: Layer[];
}

/** The bytes Ollama writes for a manifest: the digest shown by /api/tags is their sha256. */
export function manifestBytes(config: Layer, layers: readonly Layer[]): string {
  const strip = (layer: Layer) => ({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size });
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: strip(config),
    layers: layers.map(strip),
  });
}

/** sha256 hex of text or bytes. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Deterministic stand-in weights: the GGUF magic, then an AES-256-CTR keystream keyed by the
 * weights' name (fast enough for gigabyte blobs), so equal names give equal blobs everywhere.
 */
export function* weightsChunks(weights: string, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(`ollama-sim-weights:${weights}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(GENERATE_CHUNK_BYTES);
  let produced = 0;
  while (produced < size) {
    const chunk = cipher.update(zeros.subarray(0, Math.min(GENERATE_CHUNK_BYTES, size - produced)));
    if (produced === 0) GGUF_MAGIC.copy(chunk, 0, 0, Math.min(GGUF_MAGIC.length, chunk.length));
    produced += chunk.length;
    yield chunk;
  }
}

/** The store under one directory. */
export class DiskModelStore {
  readonly manifestsDir: string;
  readonly blobsDir: string;

  constructor(readonly root: string) {
    this.manifestsDir = join(root, 'manifests');
    this.blobsDir = join(root, 'blobs');
    mkdirSync(this.manifestsDir, { recursive: true });
    mkdirSync(this.blobsDir, { recursive: true });
  }

  /** BlobsPath: `sha256:x` and `sha256-x` name one file. */
  blobPath(digest: string): string {
    return join(this.blobsDir, `sha256-${digest.slice(7)}`);
  }

  /** PathForName: one file per host, namespace, model and tag. */
  manifestPath(name: string | ModelName): string {
    const n = typeof name === 'string' ? parseModelName(name) : name;
    return join(this.manifestsDir, n.host, n.namespace, n.model, n.tag);
  }

  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  blobSize(digest: string): number | undefined {
    try {
      return statSync(this.blobPath(digest)).size;
    } catch {
      return undefined;
    }
  }

  readBlobText(digest: string): string {
    return readFileSync(this.blobPath(digest), 'utf8');
  }

  /** Writes a blob from its chunks to a partial file, then renames it into place. */
  writeBlob(digest: string, chunks: Iterable<Buffer | string>): void {
    const target = this.blobPath(digest);
    if (existsSync(target)) return;
    const partial = `${target}-partial`;
    const fd = openSync(partial, 'w');
    try {
      for (const chunk of chunks) writeSync(fd, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, target);
  }

  /** A blob whose digest is known only at its end (an upload): written, then filed by `finish`. */
  startUpload(): { write(chunk: Buffer): void; finish(digest: string): void; abort(): void } {
    const partial = join(this.blobsDir, `upload-${randomUUID()}-partial`);
    const fd = openSync(partial, 'w');
    return {
      write: (chunk) => {
        writeSync(fd, chunk);
      },
      finish: (digest) => {
        closeSync(fd);
        if (this.hasBlob(digest)) rmSync(partial, { force: true });
        else renameSync(partial, this.blobPath(digest));
      },
      abort: () => {
        closeSync(fd);
        rmSync(partial, { force: true });
      },
    };
  }

  /** A text layer's blob, its content hashed already by textLayer. */
  writeTextLayer(layer: Layer): void {
    if (layer.content !== undefined) this.writeBlob(layer.digest, [layer.content]);
  }

  /** Generates a weights blob of `size` bytes and returns its layer, named by its true digest. */
  writeWeights(mediaType: string, weights: string, size: number): Layer {
    const hash = createHash('sha256');
    for (const chunk of weightsChunks(weights, size)) hash.update(chunk);
    const digest = `sha256:${hash.digest('hex')}`;
    this.writeBlob(digest, weightsChunks(weights, size));
    return { mediaType, digest, size };
  }

  /** Writes a manifest's exact bytes under a name, replacing any there (also via a rename). */
  writeManifest(name: string, bytes: string): void {
    const path = this.manifestPath(name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, bytes);
    renameSync(`${path}.tmp`, path);
  }

  readManifest(name: string): { bytes: string; manifest: ManifestJson } | undefined {
    const path = this.manifestPath(name);
    if (!existsSync(path)) return undefined;
    const bytes = readFileSync(path, 'utf8');
    return { bytes, manifest: JSON.parse(bytes) as ManifestJson };
  }

  removeManifest(name: string): void {
    rmSync(this.manifestPath(name), { force: true });
  }

  /** Every manifest on disk, as `host/namespace/model:tag`. */
  listManifests(): string[] {
    const names: string[] = [];
    const walk = (dir: string, parts: string[]) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name), [...parts, entry.name]);
        else if (parts.length === 3 && !entry.name.endsWith('.tmp')) {
          names.push(`${parts[0]}/${parts[1]}/${parts[2]}:${entry.name}`);
        }
      }
    };
    walk(this.manifestsDir, []);
    return names;
  }

  /** Deletes those of `digests` that no manifest on disk names any more (deleteUnusedLayers). */
  pruneBlobs(digests: readonly string[]): void {
    const used = new Set<string>();
    for (const name of this.listManifests()) {
      const found = this.readManifest(name);
      if (found === undefined) continue;
      for (const layer of [...found.manifest.layers, found.manifest.config]) {
        used.add(`sha256-${layer.digest.slice(7)}`);
      }
    }
    for (const digest of digests) {
      if (!used.has(`sha256-${digest.slice(7)}`)) rmSync(this.blobPath(digest), { force: true });
    }
  }
}
