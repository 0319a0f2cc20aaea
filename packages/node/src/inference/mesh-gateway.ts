import { randomUUID } from 'node:crypto';
import { type HardwareInfo, INFER_PROTOCOL, MAX_INBOUND_STREAMS, type ModelInfo } from '@allerac/protocol';
import {
  AmbiguousModelError,
  type Candidate,
  type CandidateModel,
  listMeshModels,
  normalizeModelName,
  type Placement,
  type Policy,
  ModelNotFoundError as RouterModelNotFoundError,
  rankCandidates,
  type Task,
  UnknownNodeError,
} from '@allerac/router';
import type { Logger } from 'pino';
import type { Backend, BackendModel, LoadedModel, OllamaObject } from '../backend/backend.js';
import { BackendResponseError, BackendUnavailableError } from '../backend/errors.js';
import { DomainError, InvalidInputError } from '../errors.js';
import type { Mesh, PeerView } from '../mesh/index.js';
import { ConversationAffinities, promptTokensOf, turnTokens } from './conversation-affinity.js';
import {
  AllBusyError,
  AllFailedError,
  AnswerInterruptedError,
  ModelNotFoundError,
  NoEligibleNodeError,
  PeerLostError,
  PeerStreamLimitError,
  RemoteInferenceError,
} from './errors.js';
import type {
  GenerationKind,
  InferenceGateway,
  InferenceStream,
  PreparedRequest,
  PrepareRequest,
  ServedBy,
  ServingNode,
} from './gateway.js';
import { tokensPerSecondOf } from './infer-service.js';
import { type LocalLoad, NodeBusyError } from './local-load.js';
import type { LocalModels } from './local-models.js';
import type { PeerMeasurements } from './measurements.js';
import { loadedOnPeer, lowestVersion, showOnPeer, UNKNOWN_EXPIRY } from './peer-models.js';
import { remoteInference } from './remote-inference.js';

/** Until the first chunk: queueing plus loading a large model from disk on a slow box. */
export const FIRST_CHUNK_DEADLINE_MS = 120_000;
/** A stream silent this long mid-answer counts as stalled, and the answer moves on. */
export const STALL_DEADLINE_MS = 30_000;
/** The whole generation on a peer. */
export const GENERATION_DEADLINE_MS = 15 * 60_000;
/** How long the local hardware reading is reused when ranking. */
const HARDWARE_TTL_MS = 2_000;
/** A peer resets inference streams past this many at once from one node; never open more. */
const PEER_STREAM_LIMIT = MAX_INBOUND_STREAMS[INFER_PROTOCOL];

/** What the gateway needs. */
export interface MeshGatewayComponents {
  backend: Backend;
  localModels: LocalModels;
  load: LocalLoad;
  measurements: PeerMeasurements;
  hardware: () => Promise<HardwareInfo>;
  logger: Logger;
  /** Where conversations ran last; a fresh bounded one when not given. */
  affinities?: ConversationAffinities;
}

/** Settings of the gateway. */
export interface MeshGatewayInit {
  nodeName: () => string;
  specializations: () => string[];
  /** The policy used when a request names none. */
  defaultPolicy: () => Policy;
}

/** Routing options a request may carry in an `allerac` field of its body. */
interface RequestRouting {
  policy: Policy;
  specialization?: string;
  /** The conversation this turn belongs to (X-Allerac-Conversation), for affinity. */
  conversation?: string;
}

/** One started attempt on one candidate. */
interface Attempt {
  placement: Placement;
  /** What was sent there, and what may follow from it. */
  prepared: PreparedRequest;
  first: OllamaObject;
  rest: AsyncIterator<OllamaObject>;
  startedAt: number;
  ttftMs: number;
}

/**
 * Serves inference for the whole mesh: ranks every candidate (this node and its peers) with the
 * router, tries them in order until one answers, and keeps a chat going on another peer when the
 * serving one dies mid-answer.
 */
export class MeshGateway implements InferenceGateway {
  private mesh: Mesh | undefined;
  private hardwareCache: { at: number; value: HardwareInfo } | undefined;
  /** Generations this node has running on each peer now: a card's load is up to a second old. */
  private readonly inflight = new Map<string, number>();
  private readonly affinities: ConversationAffinities;

  constructor(
    private readonly init: MeshGatewayInit,
    private readonly components: MeshGatewayComponents,
  ) {
    this.affinities = components.affinities ?? new ConversationAffinities();
  }

  /** Connects the gateway to the mesh once it has started; before that only this node serves. */
  attachMesh(mesh: Mesh | undefined): void {
    this.mesh = mesh;
  }

  async models(): Promise<BackendModel[]> {
    const local = await this.components.localModels.raw();
    const seen = new Set(local.map((m) => m.name));
    const remote: BackendModel[] = [];
    for (const model of listMeshModels(this.peerCandidates())) {
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
    if (local.length === 0 && remote.length === 0 && this.components.backend.health().state !== 'up') {
      // Nothing anywhere and no local backend: say why rather than list nothing.
      await this.components.backend.list();
    }
    return [...local, ...remote];
  }

  async loaded(): Promise<LoadedModel[]> {
    const local = this.components.backend.health().state === 'up' ? await this.components.backend.ps() : [];
    const peers = this.onlinePeers().filter((peer) => peer.card.backend.state === 'up');
    // Each peer's own /api/ps (real expiry, VRAM and context); its card only when it cannot answer.
    const answers = await Promise.all(
      peers.map((peer) =>
        loadedOnPeer(this.requireMesh(), peer.id).catch((error: unknown) => {
          this.components.logger.info(
            { peer: peer.name, err: error },
            'peer did not answer ps; using its card',
          );
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

  async show(request: OllamaObject): Promise<OllamaObject> {
    const { allerac: _routing, ...body } = request;
    const name = String(body.model);
    const local = await this.components.localModels.raw();
    const wanted = normalizeModelName(name);
    if (
      local.some((m) => normalizeModelName(m.name) === wanted) ||
      this.components.backend.health().state === 'up'
    ) {
      try {
        return await this.components.backend.show(body);
      } catch (error) {
        if (!(error instanceof BackendResponseError && error.status === 404)) throw error;
      }
    }
    // Ollama's resolution: `llama3.2` is `llama3.2:latest`, whatever case and `library/` prefix.
    let fallback: { peer: PeerView; model: ModelInfo } | undefined;
    for (const peer of this.onlinePeers()) {
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
        this.components.logger.info({ peer: peer.name, err: error }, 'peer did not answer show');
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
    const versions = this.onlinePeers()
      .filter((peer) => peer.card.backend.state === 'up')
      .flatMap((peer) => (peer.card.backend.version !== undefined ? [peer.card.backend.version] : []));
    const lowest = lowestVersion(versions);
    if (lowest !== undefined) return lowest;
    throw localError ?? new BackendUnavailableError(health.url, health.error ?? 'not answering');
  }

  /** The ranked candidates for a model with the reason for each, for /allerac/v1/route. */
  async explain(
    model: string,
    routing: Partial<RequestRouting> & { promptTokens?: number; maxTokens?: number; numCtx?: number } = {},
  ): Promise<Placement[]> {
    return this.rank(
      {
        model,
        policy: routing.policy ?? this.init.defaultPolicy(),
        ...pickSpecialization(routing),
        ...(routing.promptTokens !== undefined ? { promptTokens: routing.promptTokens } : {}),
      },
      {
        options: {
          ...(routing.numCtx !== undefined ? { num_ctx: routing.numCtx } : {}),
          ...(routing.maxTokens !== undefined ? { num_predict: routing.maxTokens } : {}),
        },
      },
    );
  }

  async generate(
    kind: GenerationKind,
    request: OllamaObject,
    signal: AbortSignal,
    prepare?: PrepareRequest,
  ): Promise<InferenceStream> {
    const { body, routing } = splitRouting(request, this.init.defaultPolicy());
    const promptTokens = promptTokensOf(body);
    const conversation = this.affinities.keyOf(routing.conversation, body);
    const affinity = this.affinities.lookup(conversation, promptTokens);
    const ranked = await this.rank(
      {
        model: String(body.model),
        policy: routing.policy,
        ...pickSpecialization(routing),
        ...(affinity !== undefined ? { affinity } : {}),
      },
      body,
    );
    const remember = (attempt: Attempt, final: OllamaObject) =>
      this.affinities.record(conversation, {
        nodeId: attempt.placement.nodeId,
        model: attempt.placement.model,
        tokens: turnTokens(promptTokens, final),
      });
    const eligible = ranked.filter((p) => p.eligible);
    if (eligible.length === 0) throw noEligible(String(body.model), ranked, this.components.backend);
    const tried = new Set<string>();
    let failovers = 0;
    const first = await this.firstAnswer(kind, body, eligible, tried, signal, () => failovers++, prepare);
    let current = first;
    if (first.first.done === true) {
      // A one-chunk answer: nothing will iterate the rest, so close the attempt now.
      this.recordSuccess(first, first.first);
      remember(first, first.first);
      await first.rest.return?.(undefined);
    }
    const served = (): ServedBy => ({ node: current.placement.nodeName, failovers });
    const gateway = this;
    let content = contentOf(kind, first.first);
    // Every request the answer so far was drawn from: a continuation goes only where all may go.
    const drawnFrom: PreparedRequest[] = [first.prepared];

    async function* rest(): AsyncGenerator<OllamaObject> {
      for (;;) {
        try {
          for (;;) {
            const next = await current.rest.next();
            if (next.done)
              throw new PeerLostError(`${current.placement.nodeName} ended the answer before it was done`);
            content += contentOf(kind, next.value);
            if (next.value.done === true) {
              gateway.recordSuccess(current, next.value);
              remember(current, next.value);
              yield next.value;
              return;
            }
            yield next.value;
          }
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          gateway.components.measurements.recordFailure(current.placement.nodeId);
          const holders = eligible.filter((p) => !tried.has(p.nodeId) && p.model === current.placement.model);
          const others = holders.filter((p) =>
            drawnFrom.every((prepared) => prepared.mayContinueOn?.(gateway.servingNode(p)) ?? true),
          );
          if (kind !== 'chat' || others.length === 0) {
            const why =
              kind === 'chat' && holders.length > 0
                ? `the answer drew on memories that no other node holding ${current.placement.model} may see`
                : `no other node has ${current.placement.model} to continue it`;
            throw new AnswerInterruptedError(current.placement.nodeName, (error as Error).message, why, {
              cause: error,
            });
          }
          gateway.components.logger.warn(
            { node: current.placement.nodeName, model: current.placement.model, err: error },
            'node failed mid-answer; continuing on another node',
          );
          failovers += 1;
          // Continue the same answer: the partial text goes back as an assistant prefix, which
          // Ollama continues, so the client sees no repeated text.
          const messages = Array.isArray(body.messages) ? body.messages : [];
          const continuation = { ...body, messages: [...messages, { role: 'assistant', content }] };
          current = await gateway.firstAnswer(
            kind,
            continuation,
            others,
            tried,
            signal,
            () => failovers++,
            prepare,
          );
          drawnFrom.push(current.prepared);
          content += contentOf(kind, current.first);
          yield current.first;
          if (current.first.done === true) return;
        }
      }
    }

    // Whatever way the consumer stops (done, error, client gone), the serving attempt is closed,
    // which releases its slot or cancels the peer's generation.
    async function* guarded(): AsyncGenerator<OllamaObject> {
      try {
        yield* rest();
      } finally {
        await current.rest.return?.(undefined);
      }
    }
    const iterator = guarded();
    return {
      firstChoice: first.placement.nodeName,
      first: first.first,
      rest: { [Symbol.asyncIterator]: () => iterator },
      servedBy: served,
      preparedFor: () => ({ ...current.prepared.allerac }),
    };
  }

  async localModels(): Promise<BackendModel[]> {
    return this.components.localModels.raw();
  }

  async embedLocally(request: OllamaObject, signal: AbortSignal): Promise<OllamaObject> {
    const { body } = splitRouting(request, this.init.defaultPolicy());
    return this.components.backend.embed(body, signal);
  }

  async embed(
    request: OllamaObject,
    signal: AbortSignal,
  ): Promise<{ response: OllamaObject; servedBy: ServedBy }> {
    const { body, routing } = splitRouting(request, this.init.defaultPolicy());
    const ranked = await this.rank({ model: String(body.model), policy: routing.policy }, body);
    const eligible = ranked.filter((p) => p.eligible);
    if (eligible.length === 0) throw noEligible(String(body.model), ranked, this.components.backend);
    let failovers = 0;
    let lastError: unknown;
    const failures = new FailureTally();
    for (const placement of eligible) {
      try {
        const request_ = { ...body, model: placement.model };
        let response: OllamaObject;
        if (placement.nodeId === this.localId()) {
          response = await this.components.backend.embed(request_, signal);
        } else {
          const chunks = remoteInference(
            this.requireMesh(),
            placement.nodeId,
            {
              type: 'infer-request',
              id: randomUUID(),
              api: 'embed',
              model: placement.model,
              body: request_,
              deadlineMs: FIRST_CHUNK_DEADLINE_MS,
            },
            signal,
            { firstChunkMs: FIRST_CHUNK_DEADLINE_MS, idleMs: STALL_DEADLINE_MS },
          );
          const first = await chunks.next();
          if (first.done === true) throw new PeerLostError(`${placement.nodeName} sent no embedding`);
          response = first.value;
          await chunks.return(undefined);
        }
        return { response, servedBy: { node: placement.nodeName, failovers } };
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (!isRetryable(error)) throw error;
        if (!isBusy(error)) this.components.measurements.recordFailure(placement.nodeId);
        lastError = error;
        failures.add(error);
        failovers += 1;
      }
    }
    throw noneAnswered(String(body.model), eligible, lastError, failures);
  }

  /** Tries candidates in order until one sends its first chunk. */
  private async firstAnswer(
    kind: GenerationKind,
    body: OllamaObject,
    candidates: readonly Placement[],
    tried: Set<string>,
    signal: AbortSignal,
    onFailover: () => void,
    prepare: PrepareRequest | undefined,
  ): Promise<Attempt> {
    let lastError: unknown;
    const failures = new FailureTally();
    for (const placement of candidates) {
      if (tried.has(placement.nodeId)) continue;
      tried.add(placement.nodeId);
      if (failures.attempts > 0) onFailover();
      try {
        return await this.attempt(kind, { ...body, model: placement.model }, placement, signal, prepare);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (!isRetryable(error)) throw error;
        failures.add(error);
        // Busy is load, which the ranking already weighs, not ill health: no failure penalty.
        if (!isBusy(error)) this.components.measurements.recordFailure(placement.nodeId);
        this.components.logger.info(
          { node: placement.nodeName, err: error },
          'candidate failed before its first token',
        );
        lastError = error;
      }
    }
    throw noneAnswered(String(body.model), candidates, lastError, failures);
  }

  /** Starts the generation on one candidate and waits for its first chunk. */
  private async attempt(
    kind: GenerationKind,
    unprepared: OllamaObject,
    placement: Placement,
    signal: AbortSignal,
    prepare: PrepareRequest | undefined,
  ): Promise<Attempt> {
    const startedAt = performance.now();
    // What goes into the request is decided here, once the node is known: private context is
    // added only for this node, and a retry elsewhere is prepared afresh for that node.
    const prepared: PreparedRequest =
      prepare === undefined
        ? { body: unprepared }
        : await prepare(unprepared, {
            ...this.servingNode(placement),
            modelLoaded: await this.isLoaded(placement),
          });
    const body = { ...prepared.body, model: placement.model };
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let source: AsyncIterator<OllamaObject>;
    if (placement.nodeId === this.localId()) {
      const release = await this.components.load.acquire(controller.signal);
      const backend = this.components.backend;
      source = (async function* () {
        try {
          yield* kind === 'chat'
            ? backend.chat(body, controller.signal)
            : backend.generate(body, controller.signal);
        } finally {
          release();
          signal.removeEventListener('abort', onAbort);
        }
      })();
    } else {
      const open = this.inflight.get(placement.nodeId) ?? 0;
      if (open >= PEER_STREAM_LIMIT) {
        signal.removeEventListener('abort', onAbort);
        throw new PeerStreamLimitError(placement.nodeName, PEER_STREAM_LIMIT);
      }
      this.inflight.set(placement.nodeId, open + 1);
      let counted = true;
      const uncount = () => {
        if (!counted) return;
        counted = false;
        const left = (this.inflight.get(placement.nodeId) ?? 1) - 1;
        if (left <= 0) this.inflight.delete(placement.nodeId);
        else this.inflight.set(placement.nodeId, left);
      };
      const request = {
        type: 'infer-request' as const,
        id: randomUUID(),
        api: kind,
        model: placement.model,
        body,
        deadlineMs: GENERATION_DEADLINE_MS,
      };
      const inner = remoteInference(this.requireMesh(), placement.nodeId, request, controller.signal, {
        firstChunkMs: FIRST_CHUNK_DEADLINE_MS,
        idleMs: STALL_DEADLINE_MS,
      });
      source = (async function* () {
        try {
          return yield* inner;
        } finally {
          uncount();
          signal.removeEventListener('abort', onAbort);
        }
      })();
    }
    try {
      const head = await source.next();
      if (head.done === true)
        throw new PeerLostError(`${placement.nodeName} ended the stream before its first chunk`);
      return {
        placement,
        prepared,
        first: head.value,
        rest: source,
        startedAt,
        ttftMs: performance.now() - startedAt,
      };
    } catch (error) {
      controller.abort(error);
      await source.return?.(undefined);
      throw error;
    }
  }

  private recordSuccess(attempt: Attempt, final: OllamaObject): void {
    const sample = { tokensPerSecond: tokensPerSecondOf(final), ttftMs: attempt.ttftMs };
    this.components.measurements.recordSuccess(attempt.placement.nodeId, attempt.placement.model, {
      ...sample,
      metrics: final,
      modelBytes: attempt.placement.terms?.modelBytes,
    });
    if (attempt.placement.nodeId === this.localId()) {
      this.components.load.record(attempt.placement.model, sample.tokensPerSecond, sample.ttftMs);
    }
  }

  private async rank(
    task: Omit<Task, 'now' | 'maxTokens' | 'numCtx'>,
    body: OllamaObject,
  ): Promise<Placement[]> {
    const candidates = [await this.localCandidate(), ...this.peerCandidates()];
    const options = (body.options ?? {}) as { num_predict?: unknown; num_ctx?: unknown };
    try {
      return rankCandidates(
        {
          ...task,
          now: Date.now(),
          ...(typeof options.num_predict === 'number' && options.num_predict > 0
            ? { maxTokens: options.num_predict }
            : {}),
          ...(typeof options.num_ctx === 'number' && options.num_ctx > 0 ? { numCtx: options.num_ctx } : {}),
          promptTokens: task.promptTokens ?? promptTokensOf(body),
        },
        candidates,
      );
    } catch (error) {
      if (error instanceof RouterModelNotFoundError) {
        const health = this.components.backend.health();
        if (health.state !== 'up') {
          // The model may well be on the local Ollama, which cannot be asked: that is a 503.
          throw new BackendUnavailableError(health.url, health.error ?? 'not answering');
        }
        throw new ModelNotFoundError(error.model, `${error.message}; try pulling it first`);
      }
      if (error instanceof AmbiguousModelError || error instanceof UnknownNodeError)
        throw new InvalidInputError(error.message, { cause: error });
      throw error;
    }
  }

  /** The node a placement names, as a request's preparation sees it. */
  private servingNode(placement: Placement): ServingNode {
    return { id: placement.nodeId, name: placement.nodeName, isLocal: placement.nodeId === this.localId() };
  }

  /** Whether the placed node holds the model in memory, as the ranking just saw it. */
  private async isLoaded(placement: Placement): Promise<boolean | undefined> {
    const models =
      placement.nodeId === this.localId()
        ? await this.components.localModels.list()
        : this.onlinePeers().find((peer) => peer.id === placement.nodeId)?.card.models;
    return models?.find((model) => model.name === placement.model)?.loaded;
  }

  private localId(): string {
    try {
      return this.mesh?.peerId ?? 'local';
    } catch {
      return 'local';
    }
  }

  private async localCandidate(): Promise<Candidate> {
    const [models, hardware] = await Promise.all([this.components.localModels.list(), this.hardware()]);
    return {
      id: this.localId(),
      name: this.init.nodeName(),
      isLocal: true,
      status: 'online',
      cardIssuedAt: Date.now(),
      backendUp: this.components.backend.health().state === 'up',
      models: models.map(toCandidateModel),
      memory: memoryOf(hardware),
      load: this.components.load.snapshot(),
      specializations: this.init.specializations(),
      measured: this.components.measurements.forNode(this.localId(), undefined),
    };
  }

  private onlinePeers(): PeerView[] {
    return (this.mesh?.peers() ?? []).filter((peer) => peer.status === 'online');
  }

  private peerCandidates(): Candidate[] {
    return this.onlinePeers().map((peer) => ({
      id: peer.id,
      name: peer.name,
      isLocal: false,
      status: peer.status,
      // The peer's clock may differ from ours; when we last heard it is what staleness means here.
      cardIssuedAt: peer.lastSeen,
      backendUp: peer.card.backend.state === 'up',
      models: peer.card.models.map(toCandidateModel),
      memory: memoryOf(peer.card.hardware),
      load: {
        // What this node itself has running there is certain; the card may predate it.
        activeTasks: Math.max(
          peer.card.load.activeTasks,
          (this.inflight.get(peer.id) ?? 0) - peer.card.load.queueDepth,
        ),
        queueDepth: peer.card.load.queueDepth,
        slots: peer.card.load.slots,
      },
      specializations: peer.card.specializations,
      measured: this.components.measurements.forNode(peer.id, peer.rttMs),
      // The peer's own speed figures: the router uses them only within bounds, until it measures.
      claimed: {
        perModel: Object.fromEntries(
          Object.entries(peer.card.load.tokensPerSecond).map(([model, tps]) => [
            model,
            { tokensPerSecond: tps },
          ]),
        ),
      },
    }));
  }

  private async hardware(): Promise<HardwareInfo> {
    if (this.hardwareCache !== undefined && Date.now() - this.hardwareCache.at < HARDWARE_TTL_MS) {
      return this.hardwareCache.value;
    }
    const value = await this.components.hardware();
    this.hardwareCache = { at: Date.now(), value };
    return value;
  }

  private requireMesh(): Mesh {
    if (this.mesh === undefined) throw new PeerLostError('the mesh is not running');
    return this.mesh;
  }
}

function toCandidateModel(model: {
  name: string;
  sizeBytes: number;
  loaded: boolean;
  parameterSize: string;
  family: string;
  quantization: string;
  capabilities?: string[] | undefined;
  contextLength?: number | undefined;
  expiresAt?: number | undefined;
}): CandidateModel {
  return {
    name: model.name,
    sizeBytes: model.sizeBytes,
    loaded: model.loaded,
    ...(model.contextLength !== undefined ? { contextLength: model.contextLength } : {}),
    ...(model.expiresAt !== undefined ? { expiresAt: model.expiresAt } : {}),
    parameterSize: model.parameterSize,
    family: model.family,
    quantization: model.quantization,
    ...(model.capabilities !== undefined ? { capabilities: model.capabilities } : {}),
  };
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

function memoryOf(hardware: HardwareInfo): Candidate['memory'] {
  const gpus = hardware.gpus.filter((gpu) => gpu.vramTotal > 0);
  return {
    ramFreeBytes: hardware.ramFree,
    vramFreeBytes: gpus.reduce((sum, gpu) => sum + gpu.vramFree, 0),
    gpuCount: gpus.length,
  };
}

/** Separates Allerac's routing options (`allerac: {policy, node, specialization, conversation}`) from the Ollama body. */
function splitRouting(
  request: OllamaObject,
  defaultPolicy: Policy,
): { body: OllamaObject; routing: RequestRouting } {
  const { allerac, ...body } = request;
  const options = (typeof allerac === 'object' && allerac !== null ? allerac : {}) as Record<string, unknown>;
  let policy = defaultPolicy;
  if (typeof options.node === 'string' && options.node !== '') policy = { kind: 'pin', node: options.node };
  else if (options.policy === 'local-first') policy = { kind: 'local-first' };
  else if (options.policy === 'auto') policy = { kind: 'auto' };
  else if (options.policy !== undefined)
    throw new InvalidInputError('allerac.policy must be "auto" or "local-first"');
  return {
    body,
    routing: {
      policy,
      ...(typeof options.specialization === 'string' ? { specialization: options.specialization } : {}),
      ...(typeof options.conversation === 'string' && options.conversation !== ''
        ? { conversation: options.conversation }
        : {}),
    },
  };
}

function pickSpecialization(routing: Partial<RequestRouting>): { specialization?: string } {
  return routing.specialization !== undefined ? { specialization: routing.specialization } : {};
}

function contentOf(kind: GenerationKind, chunk: OllamaObject): string {
  if (kind === 'chat') {
    const content = (chunk.message as { content?: unknown } | undefined)?.content;
    return typeof content === 'string' ? content : '';
  }
  return typeof chunk.response === 'string' ? chunk.response : '';
}

function isBusy(error: unknown): boolean {
  return (
    error instanceof NodeBusyError ||
    error instanceof PeerStreamLimitError ||
    (error instanceof RemoteInferenceError && error.code === 'busy') ||
    (error instanceof BackendResponseError && error.status === 503)
  );
}

/** Whether another candidate may succeed where this one failed. */
function isRetryable(error: unknown): boolean {
  if (error instanceof RemoteInferenceError) return error.retryable;
  if (error instanceof BackendResponseError) return error.status === 404 || error.status >= 500;
  // The gateway's own verdicts (bad input, no such model) are the same on every node.
  if (error instanceof DomainError) return false;
  return true;
}

/**
 * Whether a failure before the first token will likely pass: the node was busy, or could not be
 * reached or lost the stream (it is then no longer a candidate, or it comes back). Anything else
 * is a node that answered with an error of its own.
 */
function isTransient(error: unknown): boolean {
  if (isBusy(error) || error instanceof PeerLostError || error instanceof BackendUnavailableError)
    return true;
  if (error instanceof RemoteInferenceError) return error.code !== 'internal';
  return error instanceof BackendResponseError && error.status === 404;
}

/** How the candidates of one request failed before their first token. */
class FailureTally {
  attempts = 0;
  busy = 0;
  transient = 0;

  add(error: unknown): void {
    this.attempts += 1;
    if (isBusy(error)) this.busy += 1;
    if (isTransient(error)) this.transient += 1;
  }
}

/**
 * The error when no candidate answered. A busy mesh is a 503 with Retry-After, also when some
 * node failed otherwise (one busy and one unreachable is still a mesh to retry shortly); a 502
 * only when every node tried answered with an error of its own.
 */
function noneAnswered(
  model: string,
  candidates: readonly Placement[],
  lastError: unknown,
  failures: FailureTally,
): Error {
  if (candidates.length === 0) return new NoEligibleNodeError(model);
  const last = (lastError as Error | undefined)?.message ?? 'unknown error';
  if (failures.attempts > 0 && failures.busy === failures.attempts) {
    return new AllBusyError(model, failures.attempts, failures.busy);
  }
  // A single node's own Ollama is named as such: the message says which URL to check.
  if (failures.attempts === 1 && lastError instanceof BackendUnavailableError) return lastError;
  if (failures.transient > 0) return new AllBusyError(model, failures.attempts, failures.busy, last);
  // Ollama's own answer, local or a peer's, reaches the client with its status and message.
  if (
    lastError instanceof BackendUnavailableError ||
    lastError instanceof BackendResponseError ||
    (lastError instanceof RemoteInferenceError && lastError.status !== undefined)
  )
    return lastError;
  return new AllFailedError(model, last);
}

/** The error when the router excluded every node: 503, with each node's reason. */
function noEligible(model: string, ranked: readonly Placement[], backend: Backend): Error {
  const health = backend.health();
  return new NoEligibleNodeError(
    model,
    ranked.map((p) => ({ node: p.nodeName, reason: p.reason })),
    health.state === 'up' ? undefined : { url: health.url, error: health.error ?? 'no answer' },
  );
}
