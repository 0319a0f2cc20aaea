import type { ModelInfo } from '@allerac/protocol';
import type { Backend, BackendModel } from '../backend/backend.js';
import { capabilitiesOf } from '../backend/model-capabilities.js';

/** How long a listing of the local backend's models is reused before asking again. */
const MODELS_TTL_MS = 3_000;

/** The local backend's models (installed and loaded), cached briefly: cards and routing read them often. */
export class LocalModels {
  private cached: { at: number; models: ModelInfo[]; raw: BackendModel[] } | undefined;
  private inflight: Promise<void> | undefined;

  constructor(private readonly backend: Backend) {}

  /** The models, refreshed when the cache is older than its TTL; empty while the backend is down. */
  async list(): Promise<ModelInfo[]> {
    await this.refreshIfStale();
    return this.cached?.models ?? [];
  }

  /** The raw /api/tags entries, for the Ollama API. */
  async raw(): Promise<BackendModel[]> {
    await this.refreshIfStale();
    return this.cached?.raw ?? [];
  }

  /** Forgets the cache, e.g. after a pull or a generation that loaded a model. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async refreshIfStale(): Promise<void> {
    if (this.cached !== undefined && Date.now() - this.cached.at < MODELS_TTL_MS) return;
    if (this.backend.health().state !== 'up') {
      this.cached = { at: Date.now(), models: [], raw: [] };
      return;
    }
    this.inflight ??= this.refresh().finally(() => {
      this.inflight = undefined;
    });
    await this.inflight;
  }

  private async refresh(): Promise<void> {
    try {
      const [installed, loaded] = await Promise.all([this.backend.list(), this.backend.ps().catch(() => [])]);
      const loadedNames = new Set(loaded.map((m) => m.name));
      this.cached = {
        at: Date.now(),
        raw: installed,
        models: installed.map((m) => ({
          name: m.name,
          sizeBytes: m.size,
          family: m.details?.family ?? '',
          parameterSize: m.details?.parameter_size ?? '',
          quantization: m.details?.quantization_level ?? '',
          loaded: loadedNames.has(m.name),
          capabilities: capabilitiesOf(m),
        })),
      };
    } catch {
      this.cached = { at: Date.now(), models: [], raw: [] };
    }
  }
}
