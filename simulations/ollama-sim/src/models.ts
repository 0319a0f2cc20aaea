/** Installed models (what /api/tags lists) and loaded models (what /api/ps lists, bounded by memory). */
import { BlobStore, GGUF_MAGIC } from './blobs.js';
import { modelCapabilities, weightCapabilities } from './capabilities.js';
import { modelDigest, normalizeModelName, weightsName } from './catalog.js';
import { OllamaApiError } from './errors.js';
import { type Layer, libraryManifest, MEDIA_TYPES, type ModelManifest, manifestDigest } from './manifest.js';
import type { HardwareProfile, SimModel } from './types.js';

const GB = 1e9;
const GIB = 1024 ** 3;

/**
 * A model on disk under one name; copies and aliases share `weights` and `digest`. `model` holds
 * its details, with `capabilities` as Ollama derives them from weights, template and config.
 */
export interface InstalledModel extends ModelManifest {
  name: string;
  model: SimModel;
  weights: string;
  digest: string;
  modifiedAt: Date;
}

/** A model in memory. Keyed by weights, as Ollama shares one runner between tags of one model. */
export interface LoadedModel {
  name: string;
  model: SimModel;
  weights: string;
  digest: string;
  /** Requests using it now; a model in use is never evicted. */
  refs: number;
  lastUsed: number;
  /** Epoch ms when it unloads if idle; Infinity for never. */
  expiresAt: number;
  /** Set while the load is in progress, so concurrent requests wait for the same load. */
  loading: Promise<void> | undefined;
}

/** A loaded model held by one request; `release` applies that request's keep_alive. */
export interface ModelLease {
  loadMs: number;
  release(keepAliveMs: number | undefined): void;
}

/** Installed and loaded models with LRU eviction when memory runs out. */
export class ModelStore {
  readonly installed = new Map<string, InstalledModel>();
  readonly loaded = new Map<string, LoadedModel>();
  readonly blobs = new BlobStore();

  constructor(
    private readonly profile: () => HardwareProfile,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** Installs a library model under its name; `weights` ties it to another model's weights (aliases). */
  install(model: SimModel, weights = weightsName(model.name), name = model.name): InstalledModel {
    const manifest = libraryManifest(model, weights);
    return this.put(
      name,
      { ...model, capabilities: weightCapabilities(model.capabilities) },
      weights,
      manifest,
      {
        digest: modelDigest(weights),
      },
    );
  }

  /**
   * Writes a manifest under `name`, replacing any model of that name, and stores its blobs. The
   * capabilities follow from the weights' own (`model.capabilities`), the template and the config.
   */
  put(
    name: string,
    model: SimModel,
    weights: string,
    manifest: ModelManifest,
    options: { digest?: string } = {},
  ): InstalledModel {
    const normalized = normalizeModelName(name);
    const capabilities = modelCapabilities(
      model.capabilities,
      manifest.template,
      manifest.declaredCapabilities,
    );
    const entry: InstalledModel = {
      ...manifest,
      name: normalized,
      model: { ...model, name: normalized, capabilities },
      weights,
      digest: options.digest ?? manifestDigestOf(manifest),
      modifiedAt: new Date(),
    };
    const previous = this.installed.get(normalized);
    this.installed.set(normalized, entry);
    for (const layer of [...manifest.layers, manifest.config]) this.storeLayer(layer);
    if (previous !== undefined) this.pruneLayers(previous);
    return entry;
  }

  /** A copy under another name: the same manifest, so the same digest and answers (CopyModel). */
  copy(source: InstalledModel, name: string): InstalledModel {
    const normalized = normalizeModelName(name);
    const entry: InstalledModel = {
      ...source,
      name: normalized,
      model: { ...source.model, name: normalized },
      modifiedAt: new Date(),
    };
    const previous = this.installed.get(normalized);
    this.installed.set(normalized, entry);
    if (previous !== undefined) this.pruneLayers(previous);
    return entry;
  }

  /** Stores a layer's blob unless it is there already; weights are GGUF files, so they start like one. */
  storeLayer(layer: Layer): void {
    if (this.blobs.has(layer.digest)) return;
    const head =
      layer.content !== undefined
        ? Buffer.from(layer.content.slice(0, 8))
        : layer.mediaType === MEDIA_TYPES.model
          ? GGUF_MAGIC
          : Buffer.alloc(0);
    this.blobs.put(layer.digest, {
      size: layer.size,
      head,
      ...(layer.content !== undefined ? { content: layer.content } : {}),
    });
  }

  /** Deletes the blobs of `entry` that no installed manifest uses any more (RemoveLayers). */
  private pruneLayers(entry: InstalledModel): void {
    const used = new Set<string>();
    for (const other of this.installed.values()) {
      for (const layer of [...other.layers, other.config]) used.add(BlobStore.canonical(layer.digest));
    }
    for (const layer of [...entry.layers, entry.config]) {
      if (!used.has(BlobStore.canonical(layer.digest))) this.blobs.delete(layer.digest);
    }
  }

  /** The installed model for a requested name, following Ollama's tag and case rules. */
  find(name: string): InstalledModel | undefined {
    return this.installed.get(normalizeModelName(name));
  }

  /** Removes an installed name; its weights unload when no other name uses them and it is idle. */
  remove(name: string): boolean {
    const entry = this.find(name);
    if (entry === undefined) return false;
    this.installed.delete(entry.name);
    this.pruneLayers(entry);
    const stillUsed = [...this.installed.values()].some((other) => other.weights === entry.weights);
    const loaded = this.loaded.get(entry.weights);
    if (!stillUsed && loaded !== undefined && loaded.refs === 0 && loaded.loading === undefined) {
      this.loaded.delete(entry.weights);
    }
    return true;
  }

  /** Loaded models after dropping the expired ones, longest remaining first as Ollama sorts them. */
  running(): LoadedModel[] {
    this.sweep();
    return [...this.loaded.values()].sort((a, b) => b.expiresAt - a.expiresAt);
  }

  /** Loads at once without delay (for `preload`); it never expires. */
  preload(entry: InstalledModel): void {
    this.loaded.set(entry.weights, this.newLoaded(entry, Number.POSITIVE_INFINITY));
  }

  /** Unloads a model now if idle (keep_alive 0 with no prompt); marks it to unload when done otherwise. */
  unload(entry: InstalledModel): void {
    const loaded = this.loaded.get(entry.weights);
    if (loaded === undefined) return;
    if (loaded.refs === 0 && loaded.loading === undefined) this.loaded.delete(entry.weights);
    else loaded.expiresAt = Date.now();
  }

  /** Holds the model in memory, loading it first (taking loadMsPerGB per GB) when needed. */
  async acquire(entry: InstalledModel): Promise<ModelLease> {
    const started = performance.now();
    this.sweep();
    let loaded = this.loaded.get(entry.weights);
    if (loaded === undefined) {
      const profile = this.profile();
      if (entry.model.sizeBytes > profile.memoryBytes) {
        const need = (entry.model.sizeBytes / GIB).toFixed(1);
        const have = (profile.memoryBytes / GIB).toFixed(1);
        throw new OllamaApiError(
          500,
          `model requires more system memory (${need} GiB) than is available (${have} GiB)`,
        );
      }
      this.makeRoom(entry.model.sizeBytes);
      loaded = this.newLoaded(entry, Number.POSITIVE_INFINITY);
      const current = loaded;
      current.loading = this.sleep((entry.model.sizeBytes / GB) * profile.loadMsPerGB).then(() => {
        current.loading = undefined;
      });
      this.loaded.set(entry.weights, current);
    }
    loaded.refs++;
    loaded.lastUsed = Date.now();
    if (loaded.loading !== undefined) await loaded.loading;
    const held = loaded;
    let released = false;
    return {
      loadMs: performance.now() - started,
      release: (keepAliveMs) => {
        if (released) return;
        released = true;
        held.refs--;
        held.lastUsed = Date.now();
        const keepAlive = keepAliveMs ?? this.profile().keepAliveMs;
        held.expiresAt = held.lastUsed + keepAlive;
        if (keepAlive <= 0 && held.refs === 0 && this.loaded.get(held.weights) === held) {
          this.loaded.delete(held.weights);
        }
      },
    };
  }

  /** Evicts idle models, least recently used first, until `bytes` more fit. */
  private makeRoom(bytes: number): void {
    const limit = this.profile().memoryBytes;
    let used = [...this.loaded.values()].reduce((sum, m) => sum + m.model.sizeBytes, 0);
    const idle = [...this.loaded.values()]
      .filter((m) => m.refs === 0 && m.loading === undefined)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const victim of idle) {
      if (used + bytes <= limit) break;
      this.loaded.delete(victim.weights);
      used -= victim.model.sizeBytes;
    }
    // Models in use cannot be evicted; the simulator then overcommits rather than waiting.
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, m] of this.loaded) {
      if (m.refs === 0 && m.loading === undefined && m.expiresAt <= now) this.loaded.delete(key);
    }
  }

  private newLoaded(entry: InstalledModel, expiresAt: number): LoadedModel {
    return {
      name: entry.name,
      model: entry.model,
      weights: entry.weights,
      digest: entry.digest,
      refs: 0,
      lastUsed: Date.now(),
      expiresAt,
      loading: undefined,
    };
  }
}

function manifestDigestOf(manifest: ModelManifest): string {
  return manifestDigest(manifest.config, manifest.layers);
}
