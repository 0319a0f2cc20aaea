import type { ModelInfo } from '@allerac/protocol';
import type { Backend, BackendModel, LoadedModel } from '../backend/backend.js';
import { capabilitiesOf } from '../backend/model-capabilities.js';

/** How long a listing of the local backend's models is reused before asking again. */
const MODELS_TTL_MS = 3_000;
/** Granularity of a loaded model's expiry in cards. */
const EXPIRY_GRAIN_MS = 10_000;

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
      const loadedByName = new Map(loaded.map((m) => [m.name, m]));
      this.cached = {
        at: Date.now(),
        raw: installed,
        models: installed.map((m) => ({
          name: m.name,
          sizeBytes: m.size,
          family: m.details?.family ?? '',
          parameterSize: m.details?.parameter_size ?? '',
          quantization: m.details?.quantization_level ?? '',
          loaded: loadedByName.has(m.name),
          ...residency(loadedByName.get(m.name)),
          capabilities: capabilitiesOf(m),
        })),
      };
    } catch {
      this.cached = { at: Date.now(), models: [], raw: [] };
    }
  }
}

/** Context length and expiry of a loaded model, as far as /api/ps gives them. */
function residency(ps: LoadedModel | undefined): Pick<ModelInfo, 'contextLength' | 'expiresAt'> {
  if (ps === undefined) return {};
  const context = (ps as { context_length?: unknown }).context_length;
  const expires = Date.parse(ps.expires_at);
  return {
    ...(typeof context === 'number' && Number.isInteger(context) && context > 0
      ? { contextLength: context }
      : {}),
    // Go's zero time (unknown) and dates before 1970 say nothing useful.
    // Rounded down to 10 s: every request pushes the expiry on, and a card changes only when it moves.
    ...(Number.isFinite(expires) && expires > 0
      ? { expiresAt: Math.floor(expires / EXPIRY_GRAIN_MS) * EXPIRY_GRAIN_MS }
      : {}),
  };
}
