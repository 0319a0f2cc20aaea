/** Installed models (what /api/tags lists) and loaded models (what /api/ps lists, bounded by memory). */
import { modelDigest, normalizeModelName, weightsName } from './catalog.js';
import { OllamaApiError } from './errors.js';
import type { HardwareProfile, SimModel } from './types.js';

const GB = 1e9;
const GIB = 1024 ** 3;

/** A model on disk under one name; copies and aliases share `weights` and `digest`. */
export interface InstalledModel {
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

  constructor(
    private readonly profile: () => HardwareProfile,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** Installs a model under its name; `weights` ties it to another model's weights (copies). */
  install(model: SimModel, weights = weightsName(model.name), name = model.name): InstalledModel {
    const normalized = normalizeModelName(name);
    const entry: InstalledModel = {
      name: normalized,
      model: { ...model, name: normalized },
      weights,
      digest: modelDigest(weights),
      modifiedAt: new Date(),
    };
    this.installed.set(normalized, entry);
    return entry;
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
