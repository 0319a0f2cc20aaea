/**
 * Pre-warm (`routing.prewarm`, off by default): when a model is in demand (several requests
 * within a window) and the node that would serve it best once warm has it cold, that node is sent
 * Ollama's load request ahead of the next request, so that request does not wait for the load.
 * Ollama's documented load is a generate request with only the model (and options): routes.go
 * GenerateHandler answers it with `done_reason: "load"` once the model is in memory. It is never
 * sent where the model would not fit beside what is loaded there: a pre-warm must not unload a
 * model someone is using to load one nobody asked for yet.
 */
import type { Placement } from '@allerac/router';
import type { Logger } from 'pino';
import type { OllamaObject } from '../backend/backend.js';
import { promptTokensOf } from './conversation-affinity.js';
import type { GenerationKind, InferenceGateway, InferenceStream, PrepareRequest } from './gateway.js';

/** Requests for one model within the window that make it "in demand". */
export const PREWARM_MIN_REQUESTS = 3;
/** The window demand is counted over, ms. */
export const PREWARM_WINDOW_MS = 60_000;
/** A node is sent at most one load of a model per this long, ms. */
export const PREWARM_COOLDOWN_MS = 60_000;
/** Models (and node-model pairs) remembered at most: any client can name any model. */
const MAX_TRACKED = 256;

/** The request that showed demand, as the ranking weighs it; the load must match its num_ctx. */
export interface RequestShape {
  numCtx?: number;
  promptTokens?: number;
  maxTokens?: number;
}

/** What the pre-warmer needs of the gateway: the ranking, and a generation pinned to a node. */
export interface PrewarmGateway {
  explain(model: string, routing?: RequestShape): Promise<Placement[]>;
  generate(kind: GenerationKind, request: OllamaObject, signal: AbortSignal): Promise<InferenceStream>;
}

/** Settings and tuning; `enabled` is read at each request, so Settings apply at once. */
export interface PrewarmInit {
  /** `routing.prewarm`. */
  enabled: () => Promise<boolean>;
  minRequests?: number;
  windowMs?: number;
  cooldownMs?: number;
  now?: () => number;
}

/** What one observation did, for tests and logs. */
export type PrewarmOutcome =
  | { action: 'off' | 'quiet' }
  | { action: 'warm' | 'cooling' | 'no fit' | 'no candidate'; node?: string }
  | { action: 'loaded'; node: string }
  | { action: 'failed'; node: string; error: string };

/** Counts demand per model and sends a load request where it pays. */
export class Prewarmer {
  private readonly seen = new Map<string, number[]>();
  private readonly sent = new Map<string, number>();
  private readonly minRequests: number;
  private readonly windowMs: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(
    private readonly init: PrewarmInit,
    private readonly components: { gateway: PrewarmGateway; logger: Logger },
  ) {
    this.minRequests = init.minRequests ?? PREWARM_MIN_REQUESTS;
    this.windowMs = init.windowMs ?? PREWARM_WINDOW_MS;
    this.cooldownMs = init.cooldownMs ?? PREWARM_COOLDOWN_MS;
    this.now = init.now ?? Date.now;
  }

  /**
   * Notes a request for `model` (with its `num_ctx`, which the load must match or Ollama reloads)
   * and pre-warms when the model is in demand. Never throws: a failed pre-warm costs nothing.
   */
  async observe(model: string, shape: RequestShape = {}): Promise<PrewarmOutcome> {
    const { numCtx } = shape;
    try {
      if (!(await this.init.enabled())) return { action: 'off' };
      if (model === '' || model.toLowerCase() === 'auto') return { action: 'quiet' };
      const now = this.now();
      const recent = (this.seen.get(model) ?? []).filter((at) => now - at < this.windowMs);
      recent.push(now);
      this.seen.delete(model);
      this.seen.set(model, recent);
      forgetOldest(this.seen);
      if (recent.length < this.minRequests) return { action: 'quiet' };
      const ranked = await this.components.gateway.explain(model, shape);
      const best = bestOnceWarm(ranked);
      if (best === undefined) return { action: 'no candidate' };
      if (best.terms?.loadState === 'loaded') return { action: 'warm', node: best.nodeName };
      if (best.evictsBytes !== undefined && best.evictsBytes > 0)
        return { action: 'no fit', node: best.nodeName };
      const key = `${best.nodeId}\0${best.model}\0${numCtx ?? ''}`;
      const last = this.sent.get(key);
      if (last !== undefined && now - last < this.cooldownMs)
        return { action: 'cooling', node: best.nodeName };
      this.sent.delete(key);
      this.sent.set(key, now);
      forgetOldest(this.sent);
      return await this.load(best, numCtx);
    } catch (error) {
      this.components.logger.warn({ err: error, model }, 'pre-warm could not rank the model');
      return { action: 'no candidate' };
    }
  }

  private async load(best: Placement, numCtx: number | undefined): Promise<PrewarmOutcome> {
    const body: OllamaObject = {
      model: best.model,
      ...(numCtx !== undefined ? { options: { num_ctx: numCtx } } : {}),
      allerac: { node: best.nodeId },
    };
    try {
      const stream = await this.components.gateway.generate(
        'generate',
        body,
        AbortSignal.timeout(5 * 60_000),
      );
      for await (const _batch of stream.rest) {
        // A load answers with one done chunk; draining ends the attempt cleanly.
      }
      this.components.logger.info(
        { event: 'prewarm', node: best.nodeName, model: best.model },
        'pre-warmed a model in demand where it serves best',
      );
      return { action: 'loaded', node: best.nodeName };
    } catch (error) {
      this.components.logger.warn({ err: error, node: best.nodeName, model: best.model }, 'pre-warm failed');
      return { action: 'failed', node: best.nodeName, error: (error as Error).message };
    }
  }
}

/** Keeps a map within MAX_TRACKED entries, dropping the least recently set. */
function forgetOldest(map: Map<string, unknown>): void {
  while (map.size > MAX_TRACKED) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) return;
    map.delete(oldest);
  }
}

/**
 * The eligible placement that is fastest without its load: where the model serves best once it
 * is in memory. The ranking itself charges the load, so a cold best node would not come first.
 */
export function bestOnceWarm(ranked: readonly Placement[]): Placement | undefined {
  let best: Placement | undefined;
  let bestMs = Number.POSITIVE_INFINITY;
  for (const placement of ranked) {
    if (!placement.eligible || placement.terms === undefined) continue;
    const warmMs = placement.terms.totalMs - placement.terms.loadMs;
    if (warmMs < bestMs) {
      best = placement;
      bestMs = warmMs;
    }
  }
  return best;
}

/**
 * The gateway HTTP serves, with every generation noted by the pre-warmer. The request goes on at
 * once; the pre-warm decision runs beside it and never delays or fails it.
 */
export function withPrewarm(inner: InferenceGateway, prewarmer: Prewarmer): InferenceGateway {
  return {
    models: () => inner.models(),
    loaded: () => inner.loaded(),
    show: (request) => inner.show(request),
    version: () => inner.version(),
    embed: (request, signal) => inner.embed(request, signal),
    localModels: () => inner.localModels(),
    embedLocally: (request, signal) => inner.embedLocally(request, signal),
    generate: (
      kind: GenerationKind,
      request: OllamaObject,
      signal: AbortSignal,
      prepare?: PrepareRequest,
    ) => {
      const stream = inner.generate(kind, request, signal, prepare);
      void prewarmer.observe(typeof request.model === 'string' ? request.model : '', shapeOf(request));
      return stream;
    },
  };
}

function shapeOf(request: OllamaObject): RequestShape {
  const options = (
    typeof request.options === 'object' && request.options !== null ? request.options : {}
  ) as Record<string, unknown>;
  const positive = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
  const numCtx = positive(options.num_ctx);
  const maxTokens = positive(options.num_predict);
  return {
    promptTokens: promptTokensOf(request),
    ...(numCtx !== undefined ? { numCtx } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
  };
}
