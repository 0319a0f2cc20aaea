/**
 * Router candidates for a request: this node from its backend, models, load and hardware; each
 * online peer from its latest card and what this node has running there; both with what this
 * node measured. Ranks them with @allerac/router and turns its verdicts into domain errors.
 */
import type { PeerView } from '@allerac/mesh';
import type { HardwareInfo } from '@allerac/protocol';
import {
  AmbiguousModelError,
  type Candidate,
  type CandidateModel,
  type Placement,
  type Policy,
  ModelNotFoundError as RouterModelNotFoundError,
  rankCandidates,
  type Task,
  UnknownNodeError,
} from '@allerac/router';
import type { Backend, OllamaObject } from '../backend/backend.js';
import { BackendUnavailableError } from '../backend/errors.js';
import { InvalidInputError } from '../errors.js';
import { promptTokensOf } from './conversation-affinity.js';
import { ModelNotFoundError, NoEligibleNodeError } from './errors.js';
import type { ServingNode } from './gateway.js';
import type { PeerDirectory } from './gateway-ports.js';
import type { LocalLoad } from './local-load.js';
import type { LocalModels } from './local-models.js';
import type { PeerMeasurements } from './measurements.js';

/** How long the local hardware reading is reused when ranking. */
const HARDWARE_TTL_MS = 2_000;
/** This node's id before the mesh has given it one. */
const LOCAL_ID = 'local';

/** What candidate building reads. */
export interface GatewayCandidatesComponents {
  backend: Backend;
  localModels: LocalModels;
  load: LocalLoad;
  measurements: PeerMeasurements;
  hardware: () => Promise<HardwareInfo>;
  nodeName: () => string;
  specializations: () => string[];
  /** The peers; absent while no mesh runs. */
  directory: () => PeerDirectory | undefined;
}

/** Routing options a request may carry in an `allerac` field of its body. */
export interface RequestRouting {
  policy: Policy;
  specialization?: string;
  /** The conversation this turn belongs to (X-Allerac-Conversation), for affinity. */
  conversation?: string;
}

/** Builds and ranks the candidates of a request; counts the generations open on each peer. */
export class GatewayCandidates {
  private hardwareCache: { at: number; value: HardwareInfo } | undefined;
  /** Generations this node has running on each peer now: a card's load is up to a second old. */
  private readonly inflight = new Map<string, number>();

  constructor(private readonly components: GatewayCandidatesComponents) {}

  /** Ranks every candidate for `task`; the body gives the prompt, num_predict and num_ctx. */
  async rank(task: Omit<Task, 'now' | 'maxTokens' | 'numCtx'>, body: OllamaObject): Promise<Placement[]> {
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

  /** The eligible placements, or the error saying why no node may serve. */
  eligible(model: string, ranked: readonly Placement[]): Placement[] {
    const eligible = ranked.filter((p) => p.eligible);
    if (eligible.length > 0) return eligible;
    const health = this.components.backend.health();
    throw new NoEligibleNodeError(
      model,
      ranked.map((p) => ({ node: p.nodeName, reason: p.reason })),
      health.state === 'up' ? undefined : { url: health.url, error: health.error ?? 'no answer' },
    );
  }

  /** This node's id in the mesh ('local' while none runs). */
  localId(): string {
    try {
      return this.components.directory()?.peerId ?? LOCAL_ID;
    } catch {
      return LOCAL_ID;
    }
  }

  isLocal(placement: Placement): boolean {
    return placement.nodeId === this.localId();
  }

  /** The node a placement names, as a request's preparation sees it. */
  servingNode(placement: Placement): ServingNode {
    return { id: placement.nodeId, name: placement.nodeName, isLocal: this.isLocal(placement) };
  }

  /** Whether the placed node holds the model in memory, as the ranking just saw it. */
  async isLoaded(placement: Placement): Promise<boolean | undefined> {
    const models = this.isLocal(placement)
      ? await this.components.localModels.list()
      : this.onlinePeers().find((peer) => peer.id === placement.nodeId)?.card.models;
    return models?.find((model) => model.name === placement.model)?.loaded;
  }

  /** Generations this node has open on a peer. */
  openOn(peerId: string): number {
    return this.inflight.get(peerId) ?? 0;
  }

  /** Counts one generation opened on a peer; the returned function uncounts it (once). */
  countOpen(peerId: string): () => void {
    this.inflight.set(peerId, this.openOn(peerId) + 1);
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      const left = this.openOn(peerId) - 1;
      if (left <= 0) this.inflight.delete(peerId);
      else this.inflight.set(peerId, left);
    };
  }

  onlinePeers(): PeerView[] {
    return (this.components.directory()?.peers() ?? []).filter((peer) => peer.status === 'online');
  }

  peerCandidates(): Candidate[] {
    const { measurements } = this.components;
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
        activeTasks: Math.max(peer.card.load.activeTasks, this.openOn(peer.id) - peer.card.load.queueDepth),
        queueDepth: peer.card.load.queueDepth,
        slots: peer.card.load.slots,
      },
      specializations: peer.card.specializations,
      measured: measurements.forNode(peer.id, peer.rttMs),
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

  private async localCandidate(): Promise<Candidate> {
    const c = this.components;
    const [models, hardware] = await Promise.all([c.localModels.list(), this.hardware()]);
    return {
      id: this.localId(),
      name: c.nodeName(),
      isLocal: true,
      status: 'online',
      cardIssuedAt: Date.now(),
      backendUp: c.backend.health().state === 'up',
      models: models.map(toCandidateModel),
      memory: memoryOf(hardware),
      load: c.load.snapshot(),
      specializations: c.specializations(),
      measured: c.measurements.forNode(this.localId(), undefined),
    };
  }

  private async hardware(): Promise<HardwareInfo> {
    if (this.hardwareCache !== undefined && Date.now() - this.hardwareCache.at < HARDWARE_TTL_MS) {
      return this.hardwareCache.value;
    }
    const value = await this.components.hardware();
    this.hardwareCache = { at: Date.now(), value };
    return value;
  }
}

/** Separates Allerac's routing options (`allerac: {policy, node, specialization, conversation}`) from the Ollama body. */
export function splitRouting(
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

/** The specialization of a request, as a Task field. */
export function pickSpecialization(routing: Partial<RequestRouting>): { specialization?: string } {
  return routing.specialization !== undefined ? { specialization: routing.specialization } : {};
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

function memoryOf(hardware: HardwareInfo): Candidate['memory'] {
  const gpus = hardware.gpus.filter((gpu) => gpu.vramTotal > 0);
  return {
    ramFreeBytes: hardware.ramFree,
    vramFreeBytes: gpus.reduce((sum, gpu) => sum + gpu.vramFree, 0),
    gpuCount: gpus.length,
  };
}
