/**
 * The blobs directory: content-addressed layers that manifests point at, and files uploaded
 * through `/api/blobs`. Nothing touches the disk: a blob is its size, the bytes it starts with
 * (enough to recognise a GGUF file) and, for small layers, its text.
 */

/** One stored blob. */
export interface Blob {
  size: number;
  /** The first bytes, for content sniffing (GGUF magic). */
  head: Buffer;
  /** The text of small layers (template, params, ...). */
  content?: string;
}

/** `sha256:<64 hex>` or `sha256-<64 hex>`, the only digests manifest.BlobsPath accepts. */
export const DIGEST_PATTERN = /^sha256[:-][0-9a-fA-F]{64}$/;

/** A GGUF file starts with these four bytes (ggml.DetectContentType). */
export const GGUF_MAGIC = Buffer.from('GGUF');

/** Blobs by digest, spelled `sha256:<hex>`. */
export class BlobStore {
  private readonly blobs = new Map<string, Blob>();

  /**
   * The file a digest names: `sha256:x` and `sha256-x` are one file (BlobsPath swaps the colon), and
   * the hex keeps its case, as file names on Linux do.
   */
  static canonical(digest: string): string {
    return `sha256:${digest.slice(7)}`;
  }

  has(digest: string): boolean {
    return this.blobs.has(BlobStore.canonical(digest));
  }

  get(digest: string): Blob | undefined {
    return this.blobs.get(BlobStore.canonical(digest));
  }

  put(digest: string, blob: Blob): void {
    this.blobs.set(BlobStore.canonical(digest), blob);
  }

  delete(digest: string): void {
    this.blobs.delete(BlobStore.canonical(digest));
  }

  clear(): void {
    this.blobs.clear();
  }
}
