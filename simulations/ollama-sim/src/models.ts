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
  /** Marked to unload once idle, for another model or another num_ctx; nothing new may use it. */
  expiring: boolean;
  /** Requests waiting for it to unload. */
  unloaded: Array<() => void>;
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

/** Installed models, and loaded ones placed and unloaded as Ollama's scheduler does (server/sched.go). */
export class ModelStore {
  readonly installed = new Map<string, InstalledModel>();
  readonly loaded = new Map<string, LoadedModel>();
  readonly blobs = new BlobStore();
  /** The pending loop: each acquire is placed after the one before it. */
  private pendingTail: Promise<unknown> = Promise.resolve();

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
      this.drop(loaded);
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
    if (loaded.refs === 0 && loaded.loading === undefined) this.drop(loaded);
    else loaded.expiresAt = Date.now();
  }

  /**
   * Holds the model in memory, loading it first (taking loadMsPerGB per GB) when needed. Requests
   * are placed one at a time in arrival order, as Ollama's pending loop places them (sched.go
   * processPending): one that needs a runner unloaded waits, and holds the ones behind it, until
   * that runner's requests have finished.
   */
  async acquire(entry: InstalledModel, numCtx?: number): Promise<ModelLease> {
    const started = performance.now();
    const placed = this.pendingTail.then(() => this.place(entry, numCtx));
    this.pendingTail = placed.catch(() => undefined);
    const loaded = await placed;
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
        // A runner marked to unload keeps its zero session: no request may extend it.
        if (!held.expiring) {
          const keepAlive = keepAliveMs ?? this.profile().keepAliveMs;
          held.sessionMs = keepAlive;
          held.expiresAt = held.lastUsed + keepAlive;
        }
        if (held.refs === 0 && held.sessionMs <= 0) this.drop(held);
      },
    };
  }

  /** Finds or loads the runner for one request and takes a reference on it (the pending loop's body). */
  private async place(entry: InstalledModel, numCtx: number | undefined): Promise<LoadedModel> {
    const profile = this.profile();
    if (entry.model.sizeBytes > profile.memoryBytes) {
      const need = (entry.model.sizeBytes / GIB).toFixed(1);
      const have = (profile.memoryBytes / GIB).toFixed(1);
      throw new OllamaApiError(
        500,
        `model requires more system memory (${need} GiB) than is available (${have} GiB)`,
      );
    }
    for (;;) {
      this.sweep();
      const loaded = this.loaded.get(entry.weights);
      // Another context length means another runner (sched.go, needsReload). A request that leaves
      // num_ctx out asks for the default (routes.go, usesAutomaticNumCtx: a runner loaded with an
      // explicit num_ctx is not "auto", so needsReload compares the default with it).
      if (loaded !== undefined && (numCtx ?? DEFAULT_NUM_CTX) !== loaded.numCtx) {
        await this.expireWhenIdle(loaded);
        continue;
      }
      if (loaded !== undefined) {
        loaded.refs++;
        loaded.lastUsed = Date.now();
        return loaded;
      }
      const victim = this.runnerToUnload(entry.model.sizeBytes);
      if (victim !== undefined) {
        await this.expireWhenIdle(victim);
        continue;
      }
      const current = this.newLoaded(entry, Number.POSITIVE_INFINITY, numCtx);
      current.loading = this.sleep((entry.model.sizeBytes / GB) * profile.loadMsPerGB).then(() => {
        current.loading = undefined;
      });
      current.refs++;
      this.loaded.set(entry.weights, current);
      return current;
    }
  }

  /**
   * The runner to unload so that `bytes` more fit and one more runner is allowed, or undefined when
   * they fit. Ollama's order (sched.go findRunnerToUnload, sorted ByDurationAndName): the shortest
   * keep_alive first, then the model path, an idle runner before one in use; not by recent use.
   */
  private runnerToUnload(bytes: number): LoadedModel | undefined {
    const profile = this.profile();
    const maxLoaded = Math.max(1, profile.maxLoadedModels ?? DEFAULT_MAX_LOADED_MODELS);
    const runners = [...this.loaded.values()];
    const used = runners.reduce((sum, m) => sum + m.model.sizeBytes, 0);
    if (used + bytes <= profile.memoryBytes && runners.length < maxLoaded) return undefined;
    const order = runners.sort(
      (a, b) => a.sessionMs - b.sessionMs || (a.weights < b.weights ? -1 : a.weights > b.weights ? 1 : 0),
    );
    return order.find((m) => m.refs === 0 && m.loading === undefined) ?? order[0];
  }

  /** Marks a runner to unload as soon as it is idle (sessionDuration 0), and waits until it has. */
  private expireWhenIdle(runner: LoadedModel): Promise<void> {
    runner.sessionMs = 0;
    runner.expiring = true;
    if (runner.refs === 0 && runner.loading === undefined) {
      this.drop(runner);
      return Promise.resolve();
    }
    return new Promise((resolve) => runner.unloaded.push(resolve));
  }

  /** Removes a runner from memory and wakes whoever waits for it to go. */
  private drop(runner: LoadedModel): void {
    if (this.loaded.get(runner.weights) === runner) this.loaded.delete(runner.weights);
    for (const wake of runner.unloaded.splice(0)) wake();
  }

  private sweep(): void {
    const now = Date.now();
    for (const m of [...this.loaded.values()]) {
      if (m.refs === 0 && m.loading === undefined && m.expiresAt <= now) this.drop(m);
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
      expiring: false,
      unloaded: [],
    };
  }
}

function manifestDigestOf(manifest: ModelManifest): string {
  return manifestDigest(manifest.config, manifest.layers);
}
