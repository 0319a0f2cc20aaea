import type { Mesh } from '@allerac/mesh';
import type { HardwareInfo } from '@allerac/protocol';
import type { Placement, Policy } from '@allerac/router';
import type { Logger } from 'pino';
import type { Backend, BackendModel, LoadedModel, OllamaObject } from '../backend/backend.js';
import { ConversationAffinities, promptTokensOf, turnTokens } from './conversation-affinity.js';
import type {
  GenerationKind,
  InferenceGateway,
  InferenceStream,
  PrepareRequest,
  ServedBy,
} from './gateway.js';
import { answerStream } from './gateway-answer.js';
import { type Attempt, GatewayAttempts } from './gateway-attempts.js';
import {
  GatewayCandidates,
  pickSpecialization,
  type RequestRouting,
  splitRouting,
} from './gateway-candidates.js';
import { GatewayCatalogue } from './gateway-catalogue.js';
import { NO_REMOTE, type PeerDirectory, type RemoteInference } from './gateway-ports.js';
import { tokensPerSecondOf } from './infer-service.js';
import type { LocalLoad } from './local-load.js';
import type { LocalModels } from './local-models.js';
import type { PeerMeasurements } from './measurements.js';
import { createRemoteInference } from './remote-inference.js';
import { type Answered, tryInOrder } from './try-in-order.js';

export {
  FIRST_CHUNK_DEADLINE_MS,
  GENERATION_DEADLINE_MS,
  SETTLE_DEADLINE_MS,
  STALL_DEADLINE_MS,
} from './gateway-attempts.js';
export type { PeerDirectory, RemoteInference } from './gateway-ports.js';

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
  /** Runs an inference on a peer; by default over the attached mesh (remote-inference.ts). */
  remote?: RemoteInference;
  /** The peers to route to, given in process; by default the attached mesh's. */
  peers?: PeerDirectory;
}

/** Settings of the gateway. */
export interface MeshGatewayInit {
  nodeName: () => string;
  specializations: () => string[];
  /** The policy used when a request names none. */
  defaultPolicy: () => Policy;
}

/**
 * Serves inference for the whole mesh: ranks every candidate (this node and its peers) with the
 * router, tries them in order until one answers, and keeps a chat going on another peer when the
 * serving one dies mid-answer. A composition of the catalogue, the candidates, the attempts and
 * one retry loop.
 */
export class MeshGateway implements InferenceGateway {
  private mesh: Mesh | undefined;
  private meshRemote: RemoteInference = NO_REMOTE;
  private readonly affinities: ConversationAffinities;
  private readonly candidates: GatewayCandidates;
  private readonly catalogue: GatewayCatalogue;
  private readonly attempts: GatewayAttempts;

  constructor(
    private readonly init: MeshGatewayInit,
    private readonly components: MeshGatewayComponents,
  ) {
    this.affinities = components.affinities ?? new ConversationAffinities();
    const { backend, localModels, load, measurements, hardware, logger } = components;
    this.candidates = new GatewayCandidates({
      backend,
      localModels,
      load,
      measurements,
      hardware,
      nodeName: init.nodeName,
      specializations: init.specializations,
      directory: () => components.peers ?? this.mesh,
    });
    this.catalogue = new GatewayCatalogue({
      backend,
      localModels,
      logger,
      onlinePeers: () => this.candidates.onlinePeers(),
      peerCandidates: () => this.candidates.peerCandidates(),
      mesh: () => this.mesh,
    });
    this.attempts = new GatewayAttempts({
      backend,
      load,
      candidates: this.candidates,
      remote: () => components.remote ?? this.meshRemote,
    });
  }

  /** Connects the gateway to the mesh once it has started; before that only this node serves. */
  attachMesh(mesh: Mesh | undefined): void {
    this.mesh = mesh;
    // Made now, so that every peer's inference channel opens as it joins, before any request.
    this.meshRemote = mesh === undefined ? NO_REMOTE : createRemoteInference(mesh);
  }

  models(): Promise<BackendModel[]> {
    return this.catalogue.models();
  }

  loaded(): Promise<LoadedModel[]> {
    return this.catalogue.loaded();
  }

  show(request: OllamaObject): Promise<OllamaObject> {
    return this.catalogue.show(request);
  }

  version(): Promise<string> {
    return this.catalogue.version();
  }

  /** The ranked candidates for a model with the reason for each, for /allerac/v1/route. */
  async explain(
    model: string,
    routing: Partial<RequestRouting> & { promptTokens?: number; maxTokens?: number; numCtx?: number } = {},
  ): Promise<Placement[]> {
    return this.candidates.rank(
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
    const model = String(body.model);
    const promptTokens = promptTokensOf(body);
    const conversation = this.affinities.keyOf(routing.conversation, body);
    const affinity = this.affinities.lookup(conversation, promptTokens);
    const ranked = await this.candidates.rank(
      {
        model,
        policy: routing.policy,
        ...pickSpecialization(routing),
        ...(affinity !== undefined ? { affinity } : {}),
      },
      body,
    );
    const eligible = this.candidates.eligible(model, ranked);
    const tried = new Set<string>();
    const firstAnswer = (
      from: OllamaObject,
      candidates: readonly Placement[],
      failovers: number,
    ): Promise<Answered<Attempt>> =>
      tryInOrder({
        model,
        candidates,
        tried,
        failovers,
        signal,
        isLocal: (p) => this.candidates.isLocal(p),
        attempt: (placement) =>
          this.attempts.generate(kind, { ...from, model: placement.model }, placement, signal, prepare),
        onFailure: (placement, error, busy) => this.failedBeforeFirstToken(placement, error, busy),
      });
    const first = await firstAnswer(body, eligible, 0);
    return answerStream(
      { kind, body, eligible, tried, first, signal },
      {
        continueOn: firstAnswer,
        finished: (attempt, final) => {
          this.recordSuccess(attempt, final);
          this.affinities.record(conversation, {
            nodeId: attempt.placement.nodeId,
            model: attempt.placement.model,
            tokens: turnTokens(promptTokens, final),
          });
        },
        failed: (attempt) => this.components.measurements.recordFailure(attempt.placement.nodeId),
        servingNode: (placement) => this.candidates.servingNode(placement),
        logger: this.components.logger,
      },
    );
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
    const model = String(body.model);
    const ranked = await this.candidates.rank({ model, policy: routing.policy }, body);
    const answered = await tryInOrder({
      model,
      candidates: this.candidates.eligible(model, ranked),
      tried: new Set(),
      failovers: 0,
      signal,
      isLocal: (p) => this.candidates.isLocal(p),
      attempt: (placement) => this.attempts.embed({ ...body, model: placement.model }, placement, signal),
      onFailure: (placement, error, busy) => this.failedBeforeFirstToken(placement, error, busy),
    });
    return {
      response: answered.value,
      servedBy: { node: answered.placement.nodeName, failovers: answered.failovers },
    };
  }

  private failedBeforeFirstToken(placement: Placement, error: unknown, busy: boolean): void {
    // Busy is load, which the ranking already weighs, not ill health: no failure penalty.
    if (!busy) this.components.measurements.recordFailure(placement.nodeId);
    this.components.logger.info(
      { node: placement.nodeName, err: error },
      'candidate failed before its first token',
    );
  }

  /** Feeds a finished generation's TTFT and Ollama's final-chunk figures into the measurements. */
  private recordSuccess(attempt: Attempt, final: OllamaObject): void {
    const sample = { tokensPerSecond: tokensPerSecondOf(final), ttftMs: attempt.ttftMs };
    this.components.measurements.recordSuccess(attempt.placement.nodeId, attempt.placement.model, {
      ...sample,
      metrics: final,
      modelBytes: attempt.placement.terms?.modelBytes,
      // A prompt the node's KV cache mostly held says nothing about its prompt rate.
      cachedTokens: attempt.placement.terms?.cachedTokens,
    });
    if (this.candidates.isLocal(attempt.placement)) {
      this.components.load.record(attempt.placement.model, sample.tokensPerSecond, sample.ttftMs);
    }
  }
}
