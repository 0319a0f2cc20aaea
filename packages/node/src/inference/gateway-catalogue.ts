/**
 * The catalogue of the home: which node has which model, loaded or not, and what Ollama says of
 * it, across this node's backend and its peers' cards (and, when a peer can be asked, its own
 * /api/ps and /api/show over the mesh).
 */
import type { Mesh, PeerView } from '@allerac/mesh';
import type { ModelInfo } from '@allerac/protocol';
import { type Candidate, listMeshModels, normalizeModelName } from '@allerac/router';
import type { Logger } from 'pino';
import type { Backend, BackendModel, LoadedModel, OllamaObject } from '../backend/backend.js';
import { BackendResponseError, BackendUnavailableError } from '../backend/errors.js';
import { ModelNotFoundError, PeerLostError, RemoteInferenceError } from './errors.js';
import type { LocalModels } from './local-models.js';
import { loadedOnPeer, lowestVersion, showOnPeer, UNKNOWN_EXPIRY } from './peer-models.js';

/** What the catalogue reads. */
export interface GatewayCatalogueComponents {
  backend: Backend;
  localModels: LocalModels;
  logger: Logger;
  /** The peers online now. */
  onlinePeers: () => PeerView[];
  /** The peers as router candidates, for the models they hold. */
  peerCandidates: () => Candidate[];
  /** The running mesh, to ask a peer for its /api/ps and /api/show; absent, cards answer. */
  mesh: () => Mesh | undefined;
}

/** Answers /api/tags, /api/ps, /api/show and /api/version for the whole home. */
export class GatewayCatalogue {
  constructor(private readonly components: GatewayCatalogueComponents) {}

  /** Every model of the home once: this node's own entries, then those only peers hold. */
  async models(): Promise<BackendModel[]> {
    const { backend, localModels } = this.components;
    const local = await localModels.raw();
    const seen = new Set(local.map((m) => m.name));
    const remote: BackendModel[] = [];
    for (const model of listMeshModels(this.components.peerCandidates())) {
      if (seen.has(model.name)) continue;
      seen.add(model.name);
      remote.push({
        name: model.name,
        model: model.name,
        size: model.sizeBytes,
        digest: '',
        modified_at: new Date(0).toISOString(),
        details: {
          format: 'gguf',
          family: model.family ?? '',
          families: model.family ? [model.family] : null,
          parameter_size: model.parameterSize ?? '',
          quantization_level: model.quantization ?? '',
        },
      });
    }
    if (local.length === 0 && remote.length === 0 && backend.health().state !== 'up') {
      // Nothing anywhere and no local backend: say why rather than list nothing.
      await backend.list();
    }
    return [...local, ...remote];
  }

  /** Every model loaded somewhere in the home, each once. */
  async loaded(): Promise<LoadedModel[]> {
    const { backend, logger } = this.components;
    const local = backend.health().state === 'up' ? await backend.ps() : [];
    const peers = this.components.onlinePeers().filter((peer) => peer.card.backend.state === 'up');
    // Each peer's own /api/ps (real expiry, VRAM and context); its card only when it cannot answer.
    const answers = await Promise.all(
      peers.map((peer) =>
        loadedOnPeer(this.requireMesh(), peer.id).catch((error: unknown) => {
          logger.info({ peer: peer.name, err: error }, 'peer did not answer ps; using its card');
          return peer.card.models.filter((m) => m.loaded).map(loadedFromCard);
        }),
      ),
    );
    const seen = new Set(local.map((m) => normalizeModelName(m.name)));
    const merged = [...local];
    for (const model of answers.flat()) {
      const name = normalizeModelName(model.name);
      if (seen.has(name)) continue;
      seen.add(name);
      merged.push(model);
    }
    return merged;
  }

  /** Ollama's /api/show: this node's Ollama first, then a peer that holds the model. */
  async show(request: OllamaObject): Promise<OllamaObject> {
    const { backend, localModels, logger } = this.components;
    const { allerac: _routing, ...body } = request;
    const name = String(body.model);
    const local = await localModels.raw();
    const wanted = normalizeModelName(name);
    if (local.some((m) => normalizeModelName(m.name) === wanted) || backend.health().state === 'up') {
      try {
        return await backend.show(body);
      } catch (error) {
        if (!(error instanceof BackendResponseError && error.status === 404)) throw error;
      }
    }
    // Ollama's resolution: `llama3.2` is `llama3.2:latest`, whatever case and `library/` prefix.
    let fallback: { peer: PeerView; model: ModelInfo } | undefined;
    for (const peer of this.components.onlinePeers()) {
      const model = peer.card.models.find((m) => normalizeModelName(m.name) === wanted);
      if (model === undefined) continue;
      fallback ??= { peer, model };
      if (peer.card.backend.state !== 'up') continue;
      try {
        const shown = await showOnPeer(this.requireMesh(), peer.id, model.name, body);
        return { ...shown, allerac: { node: peer.name } };
      } catch (error) {
        // The client's own mistake (a bad field) is the same on every peer.
        if (error instanceof RemoteInferenceError && !error.retryable) throw error;
        logger.info({ peer: peer.name, err: error }, 'peer did not answer show');
      }
    }
    if (fallback === undefined) throw new ModelNotFoundError(name);
    // No holder answered (an older peer, or none reachable): what its card says.
    return showFromCard(fallback.model, fallback.peer.name);
  }

  /**
   * The Ollama version the home runs, as /api/version reports it: the local Ollama's, or the
   * lowest among the peers' when there is no local backend, so a client gating on it is safe.
   */
  async version(): Promise<string> {
    const backend = this.components.backend;
    const health = backend.health();
    if (health.state === 'up' && health.version !== undefined) return health.version;
    let localError: unknown;
    if (health.state !== 'unreachable') {
      try {
        return await backend.version();
      } catch (error) {
        if (!(error instanceof BackendUnavailableError)) throw error;
        localError = error;
      }
    }
    const versions = this.components
      .onlinePeers()
      .filter((peer) => peer.card.backend.state === 'up')
      .flatMap((peer) => (peer.card.backend.version !== undefined ? [peer.card.backend.version] : []));
    const lowest = lowestVersion(versions);
    if (lowest !== undefined) return lowest;
    throw localError ?? new BackendUnavailableError(health.url, health.error ?? 'not answering');
  }

  private requireMesh(): Mesh {
    const mesh = this.components.mesh();
    if (mesh === undefined) throw new PeerLostError('the mesh is not running');
    return mesh;
  }
}

/** A peer's loaded model as its card tells it, when the peer cannot be asked for its /api/ps. */
function loadedFromCard(model: ModelInfo): LoadedModel {
  return {
    name: model.name,
    model: model.name,
    size: model.sizeBytes,
    size_vram: 0,
    digest: '',
    expires_at: UNKNOWN_EXPIRY,
    details: {
      family: model.family,
      parameter_size: model.parameterSize,
      quantization_level: model.quantization,
    },
  };
}

/** A peer's model as its card tells it, when no holder could be asked for its /api/show. */
function showFromCard(model: ModelInfo, node: string): OllamaObject {
  return {
    modelfile: '',
    parameters: '',
    template: '',
    details: {
      format: 'gguf',
      family: model.family,
      families: [model.family],
      parameter_size: model.parameterSize,
      quantization_level: model.quantization,
    },
    model_info: {},
    capabilities: model.capabilities ?? ['completion'],
    allerac: { node },
  };
}
