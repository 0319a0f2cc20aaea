/** Installed models (what /api/tags lists) and loaded models (what /api/ps lists, bounded by memory). */
import { BlobStore, GGUF_MAGIC } from './blobs.js';
import { modelCapabilities, weightCapabilities } from './capabilities.js';
import { modelDigest, normalizeModelName, weightsName } from './catalog.js';
import { OllamaApiError } from './errors.js';
import {
  configLayer,
  type Layer,
  libraryManifest,
  MEDIA_TYPES,
  type ModelManifest,
  manifestDigest,
} from './manifest.js';
import { type DiskModelStore, manifestBytes, sha256Hex } from './model-store-disk.js';
import { PromptCache } from './prompt-cache.js';
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
  /** Its keep_alive (the last request's, or the default), ms: shorter ones are evicted first. */
  sessionMs: number;
  /** Set while the load is in progress, so concurrent requests wait for the same load. */
  loading: Promise<void> | undefined;
  /** Context length it was loaded with; a request asking for another reloads it. */
  numCtx: number;
  /** What its slots' KV caches hold. */
  cache: PromptCache;
}

/** Context length of a model loaded without `num_ctx` (Ollama's default). */
export const DEFAULT_NUM_CTX = 4096;

/** Models loaded at once by default: OLLAMA_MAX_LOADED_MODELS unset is 3 per GPU, 3 without one (sched.go). */
export const DEFAULT_MAX_LOADED_MODELS = 3;

/** A loaded model held by one request; `release` applies that request's keep_alive. */
export interface ModelLease {
  loadMs: number;
  /** The model as loaded for this request, with its KV cache. */
  loaded: LoadedModel;
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
    /** The store on disk (`storeDir`), written through on every change; none keeps it in memory. */
    readonly disk?: { store: DiskModelStore; modelBytes: number },
  ) {}

  /** Installs a library model under its name; `weights` ties it to another model's weights (aliases). */
  install(model: SimModel, weights = weightsName(model.name), name = model.name): InstalledModel {
    const manifest = this.libraryManifest(model, weights);
    return this.put(
      name,
      { ...model, capabilities: weightCapabilities(model.capabilities) },
      weights,
      manifest,
      this.disk === undefined ? { digest: modelDigest(weights) } : {},
    );
  }

  /** A library model's manifest; on disk its weights are a real blob of `modelBytes`, so every digest is true. */
  libraryManifest(model: SimModel, weights: string): ModelManifest {
    const manifest = libraryManifest(model, weights);
    if (this.disk === undefined) return manifest;
    const { store, modelBytes } = this.disk;
    const layers = manifest.layers.map((layer) =>
      layer.mediaType === MEDIA_TYPES.model && layer.content === undefined
        ? store.writeWeights(layer.mediaType, weights, modelBytes)
        : layer,
    );
    return { ...manifest, layers, config: configLayer(model, manifest.declaredCapabilities, layers) };
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
    options: { digest?: string; manifestJson?: string } = {},
  ): InstalledModel {
    const normalized = normalizeModelName(name);
    const json = options.manifestJson ?? manifestBytes(manifest.config, manifest.layers);
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
      digest: options.digest ?? (this.disk !== undefined ? sha256Hex(json) : manifestDigestOf(manifest)),
      modifiedAt: new Date(),
    };
    const previous = this.installed.get(normalized);
    this.installed.set(normalized, entry);
    for (const layer of [...manifest.layers, manifest.config]) this.storeLayer(layer);
    if (this.disk !== undefined) {
      for (const layer of [...manifest.layers, manifest.config]) this.disk.store.writeTextLayer(layer);
      this.disk.store.writeManifest(normalized, json);
    }
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
    if (this.disk !== undefined) {
      const bytes = this.disk.store.readManifest(source.name)?.bytes;
      this.disk.store.writeManifest(normalized, bytes ?? manifestBytes(source.config, source.layers));
    }
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
    this.disk?.store.pruneBlobs([...entry.layers, entry.config].map((layer) => layer.digest));
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
    this.disk?.store.removeManifest(entry.name);
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
  async acquire(entry: InstalledModel, numCtx?: number): Promise<ModelLease> {
    const started = performance.now();
    this.sweep();
    let loaded = this.loaded.get(entry.weights);
    // Another context length means another runner (sched.go, needsReload); requests on the old
    // one finish there, the simulator overcommitting rather than waiting for them. A request that
    // leaves num_ctx out asks for the default (routes.go, usesAutomaticNumCtx: a runner loaded with
    // an explicit num_ctx is not "auto", so needsReload compares the default with it).
    if (loaded !== undefined && (numCtx ?? DEFAULT_NUM_CTX) !== loaded.numCtx) {
      this.loaded.delete(entry.weights);
      loaded = undefined;
    }
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
      loaded = this.newLoaded(entry, Number.POSITIVE_INFINITY, numCtx);
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
      loaded: held,
      release: (keepAliveMs) => {
        if (released) return;
        released = true;
        held.refs--;
        held.lastUsed = Date.now();
        const keepAlive = keepAliveMs ?? this.profile().keepAliveMs;
        held.sessionMs = keepAlive;
        held.expiresAt = held.lastUsed + keepAlive;
        if (keepAlive <= 0 && held.refs === 0 && this.loaded.get(held.weights) === held) {
          this.loaded.delete(held.weights);
        }
      },
    };
  }

  /**
   * Evicts idle models until `bytes` more fit and one more runner is allowed, in Ollama's order:
   * the shortest keep_alive first, then by model path (sched.go, findRunnerToUnload sorting
   * ByDurationAndName), not by recent use.
   */
  private makeRoom(bytes: number): void {
    const profile = this.profile();
    const limit = profile.memoryBytes;
    const maxLoaded = Math.max(1, profile.maxLoadedModels ?? DEFAULT_MAX_LOADED_MODELS);
    let used = [...this.loaded.values()].reduce((sum, m) => sum + m.model.sizeBytes, 0);
    let count = this.loaded.size;
    const idle = [...this.loaded.values()]
      .filter((m) => m.refs === 0 && m.loading === undefined)
      .sort(
        (a, b) => a.sessionMs - b.sessionMs || (a.weights < b.weights ? -1 : a.weights > b.weights ? 1 : 0),
      );
    for (const victim of idle) {
      if (used + bytes <= limit && count < maxLoaded) break;
      this.loaded.delete(victim.weights);
      used -= victim.model.sizeBytes;
      count--;
    }
    // Models in use cannot be evicted; Ollama then waits for one to finish, the simulator
    // overcommits instead.
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, m] of this.loaded) {
      if (m.refs === 0 && m.loading === undefined && m.expiresAt <= now) this.loaded.delete(key);
    }
  }

  private newLoaded(entry: InstalledModel, expiresAt: number, numCtx = DEFAULT_NUM_CTX): LoadedModel {
    return {
      name: entry.name,
      model: entry.model,
      weights: entry.weights,
      digest: entry.digest,
      refs: 0,
      lastUsed: Date.now(),
      expiresAt,
      sessionMs:
        expiresAt === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.profile().keepAliveMs,
      loading: undefined,
      numCtx,
      cache: new PromptCache(() => this.profile().parallelSlots),
    };
  }
}

function manifestDigestOf(manifest: ModelManifest): string {
  return manifestDigest(manifest.config, manifest.layers);
}
