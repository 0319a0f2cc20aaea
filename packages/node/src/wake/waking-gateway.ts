/**
 * The gateway with sleeping machines in mind: before a generation is placed, it asks whether a
 * sleeping paired peer would be the best place for it (wake-decision.ts). If so, and no awake node
 * serves within the user's patience, it sends the magic packet, waits (bounded, on `peer:join`)
 * for the peer, and pins the request there; otherwise it serves at once. Either way the answer's
 * final `allerac.wake` says what was decided and why.
 */
import type { Placement, Policy, Task } from '@allerac/router';
import type { Logger } from 'pino';
import type { BackendModel, LoadedModel, OllamaObject } from '../backend/backend.js';
import { promptTokensOf } from '../inference/conversation-affinity.js';
import type {
  GenerationKind,
  InferenceGateway,
  InferenceStream,
  PrepareRequest,
  ServedBy,
} from '../inference/gateway.js';
import { DEFAULT_WAKE_WAIT_MS } from './constants.js';
import { WakeRateLimitedError } from './errors.js';
import { sleeperOptions } from './sleeper-options.js';
import type { SleepingPeers } from './sleeping-peers.js';
import { decideWake, type WakeDecision } from './wake-decision.js';

/** Routing options the explanation takes, as MeshGateway.explain does. */
export interface ExplainRouting {
  policy?: Policy;
  promptTokens?: number;
  maxTokens?: number;
  numCtx?: number;
  specialization?: string;
}

/** The gateway being wrapped: any InferenceGateway that can also explain its ranking. */
export interface ExplainingGateway extends InferenceGateway {
  explain(model: string, routing?: ExplainRouting): Promise<Placement[]>;
}

/** Settings read at every request, so a change in Settings applies to the next one. */
export interface WakingGatewayInit {
  /** `wake.enabled`: whether this node sends magic packets at all. */
  wakeEnabled: () => Promise<boolean>;
  /** `routing.patienceMs`. */
  patienceMs: () => Promise<number>;
  /** How long a request waits for a woken peer to join, ms. */
  wakeWaitMs?: number;
}

/** What the wrapper uses. */
export interface WakingGatewayComponents {
  inner: ExplainingGateway;
  sleeping: SleepingPeers;
  logger: Logger;
  now?: () => number;
}

/** What the final `allerac.wake` of an answer says. */
export interface WakeOutcome {
  /** `woke`: served by the peer woken for it; `not-woken`: served at once; `timed-out`: it did not come. */
  outcome: 'woke' | 'not-woken' | 'timed-out';
  /** The sleeping peer the decision was about. */
  peer?: string;
  reason: string;
}

/** Wraps a gateway so that sleeping machines are woken when they are the best place for a request. */
export class WakingGateway implements ExplainingGateway {
  private readonly wakeWaitMs: number;
  private readonly now: () => number;

  constructor(
    private readonly init: WakingGatewayInit,
    private readonly components: WakingGatewayComponents,
  ) {
    this.wakeWaitMs = init.wakeWaitMs ?? DEFAULT_WAKE_WAIT_MS;
    this.now = components.now ?? Date.now;
  }

  models(): Promise<BackendModel[]> {
    return this.components.inner.models();
  }
  loaded(): Promise<LoadedModel[]> {
    return this.components.inner.loaded();
  }
  show(request: OllamaObject): Promise<OllamaObject> {
    return this.components.inner.show(request);
  }
  version(): Promise<string> {
    return this.components.inner.version();
  }
  embed(request: OllamaObject, signal: AbortSignal): Promise<{ response: OllamaObject; servedBy: ServedBy }> {
    return this.components.inner.embed(request, signal);
  }
  localModels(): Promise<BackendModel[]> {
    return this.components.inner.localModels();
  }
  embedLocally(request: OllamaObject, signal: AbortSignal): Promise<OllamaObject> {
    return this.components.inner.embedLocally(request, signal);
  }

  /** The awake ranking, then each sleeping peer that could serve, with what waking would decide. */
  async explain(model: string, routing: ExplainRouting = {}): Promise<Placement[]> {
    const cards =
      routing.policy === undefined || routing.policy.kind === 'auto' ? this.components.sleeping.cards() : [];
    let awake: Placement[] = [];
    try {
      awake = await this.components.inner.explain(model, routing);
    } catch (error) {
      // Only sleepers may hold it: they are the explanation. Otherwise the inner error stands.
      if (cards.length === 0) throw error;
    }
    if (cards.length === 0) return awake;
    const task = this.task(model, routing);
    const options = sleeperOptions(cards, task);
    if (awake.length === 0 && !options.some((o) => o.canServe))
      return this.components.inner.explain(model, routing);
    const verdict = decideWake({
      wakeEnabled: await this.init.wakeEnabled(),
      patienceMs: await this.init.patienceMs(),
      awake: bestAwake(awake),
      sleepers: options,
    });
    const asleep = options.map(
      (o): Placement => ({
        nodeId: o.id,
        nodeName: o.name,
        model,
        eligible: false,
        estimateMs: o.estimateMs,
        score: Number.POSITIVE_INFINITY,
        reason: sleeperReason(o, verdict),
      }),
    );
    return [...awake, ...asleep];
  }

  async generate(
    kind: GenerationKind,
    request: OllamaObject,
    signal: AbortSignal,
    prepare?: PrepareRequest,
  ): Promise<InferenceStream> {
    const inner = this.components.inner;
    const verdict = await this.decide(request);
    if (verdict === undefined) return inner.generate(kind, request, signal, prepare);
    if (verdict.action === 'serve') {
      const stream = await inner.generate(kind, request, signal, prepare);
      return verdict.reason === undefined
        ? stream
        : withWake(stream, { outcome: 'not-woken', reason: verdict.reason });
    }
    const peer = verdict.peer;
    if (!this.components.sleeping.recentlyWoken(peer.id)) {
      try {
        await this.components.sleeping.wake(peer.id);
      } catch (error) {
        // Another request sent it a moment ago: waiting for it is all that is left to do.
        if (!(error instanceof WakeRateLimitedError)) throw error;
      }
    }
    const joined = await this.components.sleeping.waitForJoin(peer.id, this.wakeWaitMs, signal);
    if (signal.aborted) throw signal.reason;
    if (!joined) {
      const reason = `${peer.name} did not wake within ${Math.round(this.wakeWaitMs / 1000)} s; served by an awake node`;
      this.components.logger.warn({ event: 'wake-timed-out', peer: peer.id, name: peer.name }, reason);
      return withWake(await inner.generate(kind, request, signal, prepare), {
        outcome: 'timed-out',
        peer: peer.name,
        reason,
      });
    }
    this.components.logger.info(
      { event: 'wake-joined', peer: peer.id, name: peer.name },
      'the woken peer joined',
    );
    try {
      const stream = await inner.generate(kind, pinned(request, peer.id), signal, prepare);
      return withWake(stream, { outcome: 'woke', peer: peer.name, reason: verdict.reason });
    } catch (error) {
      if (signal.aborted) throw error;
      // Awake but not ready (its Ollama still starting): the request is not lost for it.
      const reason = `${peer.name} woke but could not serve yet (${(error as Error).message}); served elsewhere`;
      this.components.logger.warn({ event: 'wake-not-ready', peer: peer.id, err: error }, reason);
      return withWake(await inner.generate(kind, request, signal, prepare), {
        outcome: 'timed-out',
        peer: peer.name,
        reason,
      });
    }
  }

  /** The decision for one request; undefined when there is nothing to decide (no sleeper, a pin). */
  private async decide(request: OllamaObject): Promise<WakeDecision | undefined> {
    const routing = (
      typeof request.allerac === 'object' && request.allerac !== null ? request.allerac : {}
    ) as Record<string, unknown>;
    // A pinned request has chosen its node.
    if (typeof routing.node === 'string' && routing.node !== '') return undefined;
    // local-first, or a policy the gateway will refuse: nothing to wake for.
    if (routing.policy !== undefined && routing.policy !== 'auto') return undefined;
    const model = typeof request.model === 'string' ? request.model : '';
    // `auto` names no model until the router picks one among the awake nodes.
    if (model === '' || model.toLowerCase() === 'auto') return undefined;
    const cards = this.components.sleeping.cards();
    if (cards.length === 0) return undefined;
    const options = (request.options ?? {}) as Record<string, unknown>;
    const explainRouting: ExplainRouting = {
      promptTokens: promptTokensOf(request),
      ...(typeof options.num_predict === 'number' && options.num_predict > 0
        ? { maxTokens: options.num_predict }
        : {}),
      ...(typeof options.num_ctx === 'number' ? { numCtx: options.num_ctx } : {}),
      ...(typeof routing.specialization === 'string' ? { specialization: routing.specialization } : {}),
    };
    const sleepers = sleeperOptions(cards, this.task(model, explainRouting));
    if (!sleepers.some((s) => s.canServe)) return undefined;
    let awake: Placement[] = [];
    try {
      awake = await this.components.inner.explain(model, explainRouting);
    } catch {
      // No awake node has the model: only a sleeper can serve it.
    }
    return decideWake({
      wakeEnabled: await this.init.wakeEnabled(),
      patienceMs: await this.init.patienceMs(),
      awake: bestAwake(awake),
      sleepers,
    });
  }

  private task(model: string, routing: ExplainRouting): Task {
    return {
      model,
      now: this.now(),
      ...(routing.promptTokens !== undefined ? { promptTokens: routing.promptTokens } : {}),
      ...(routing.maxTokens !== undefined ? { maxTokens: routing.maxTokens } : {}),
      ...(routing.numCtx !== undefined ? { numCtx: routing.numCtx } : {}),
      ...(routing.specialization !== undefined ? { specialization: routing.specialization } : {}),
    };
  }
}

function bestAwake(ranked: readonly Placement[]): { nodeName: string; estimateMs: number } | undefined {
  const best = ranked.find((p) => p.eligible);
  return best === undefined ? undefined : { nodeName: best.nodeName, estimateMs: best.estimateMs };
}

function sleeperReason(
  option: { id: string; canServe: boolean; wakeable: boolean; estimateMs: number },
  verdict: WakeDecision,
): string {
  if (!option.canServe) return 'asleep; its last card cannot serve this model';
  const once = `asleep; est. ${(option.estimateMs / 1000).toFixed(1)} s once awake (cold)`;
  if (!option.wakeable) return `${once}; cannot be woken (Wake-on-LAN off or no MAC)`;
  if (verdict.action === 'wake' && verdict.peer.id === option.id)
    return `${once}; would be woken: ${verdict.reason}`;
  return verdict.reason === undefined
    ? `${once}; an awake node serves as well`
    : `${once}; ${verdict.reason}`;
}

function pinned(request: OllamaObject, peerId: string): OllamaObject {
  const routing = typeof request.allerac === 'object' && request.allerac !== null ? request.allerac : {};
  return { ...request, allerac: { ...routing, node: peerId } };
}

/** The same stream, whose final `allerac` carries the wake outcome. */
function withWake(stream: InferenceStream, wake: WakeOutcome): InferenceStream {
  return {
    firstChoice: stream.firstChoice,
    first: stream.first,
    rest: stream.rest,
    answer: stream.answer,
    servedBy: () => stream.servedBy(),
    preparedFor: () => ({ ...stream.preparedFor(), wake }),
  };
}
