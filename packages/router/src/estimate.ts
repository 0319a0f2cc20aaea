/** Expected completion time of a task on one node: wait for a slot, load, prompt, generation, network. */
import {
  AUTO_CONTEXT_LENGTHS,
  CHARS_PER_TOKEN,
  DEFAULT_ROUTER_DEFAULTS,
  MAX_GUESSED_TOKENS_PER_SECOND,
} from './constants.js';
import { findModel, normalizeModelName } from './model-names.js';
import type { Candidate, CandidateModel, CostTerm, RouterDefaults, Task } from './types.js';

/** The parts of an estimate, all in ms except the rates, so a route explanation can show them. */
export interface CompletionEstimate {
  /** Total expected time from sending the request to the last token, ms. */
  totalMs: number;
  /** Waiting for a free slot behind the node's active and queued requests. */
  waitMs: number;
  /**
   * Waiting for the requests running on a runner that must unload before this model loads (the
   * same model with another num_ctx, or another model making room): Ollama unloads a runner only
   * once it is idle, and places nothing else meanwhile (sched.go processPending).
   */
  drainMs: number;
  /** Requests running on the node when it must unload a runner first, which the drain waits for. */
  drainRequests: number;
  /** Loading the model into memory when it is cold (not loaded, expired, or another num_ctx). */
  loadMs: number;
  /** Why the model counts as warm or cold. */
  loadState: LoadState;
  /** Size of the model, bytes: what a cold load reads. */
  modelBytes: number;
  /** Load rate used for a cold model, bytes/s. */
  loadBytesPerSecond: number;
  /** Whether the load rate came from this node's `load_duration`s or from the default. */
  loadSource: 'measured' | 'guessed';
  /** Time to first token: prompt overhead plus prompt evaluation (or the measured TTFT). */
  ttftMs: number;
  /** Prompt tokens the request carries (estimated before tokenising). */
  promptTokens: number;
  /** Of those, tokens the node's KV cache already holds from this conversation's previous turn. */
  cachedTokens: number;
  /** Evaluating the prompt tokens that are not cached. */
  promptEvalMs: number;
  /** Prompt evaluation speed used, tokens/s. */
  promptTokensPerSecond: number;
  /**
   * Where the prompt speed came from: this node's prompt_eval metrics for the model; derived from
   * its metrics for other models (prompt evaluation is compute-bound, so it scales with size); or
   * the default.
   */
  promptSource: 'measured' | 'derived' | 'guessed';
  /** Generating the output tokens. */
  generateMs: number;
  /** Network round trip (0 for the local node). */
  rttMs: number;
  /** Output tokens per second used. */
  tokensPerSecond: number;
  /**
   * Where tokens/s came from: this node's measurement of the model there; a speed derived from
   * its measurements of other models there; the node's own claim (never above the guess); or
   * the bandwidth guess.
   */
  tokensPerSecondSource: TokensPerSecondSource;
  /**
   * Where TTFT came from: `measured` is a whole measured TTFT for a node whose prompt speed is
   * unknown (prompt length then does not count); `modelled` is overhead plus prompt evaluation.
   */
  ttftSource: 'measured' | 'modelled';
}

/** Whether a model is warm where it is: only `loaded` skips the load term. */
export type LoadState = 'loaded' | 'not loaded' | 'expired' | 'num_ctx differs';

/** Where an estimate's tokens/s came from, best first. */
export type TokensPerSecondSource = 'measured' | 'derived' | 'claimed' | 'guessed';

/** Guessed output tokens/s: generation is memory-bandwidth bound, so bandwidth / bytes read per token. */
export function guessTokensPerSecond(
  node: Candidate,
  model: CandidateModel,
  defaults: RouterDefaults,
): number {
  const bandwidth =
    node.memory.gpuCount > 0 ? defaults.gpuBandwidthBytesPerSecond : defaults.cpuBandwidthBytesPerSecond;
  return bandwidthToTokensPerSecond(bandwidth, model);
}

/** Tokens/s from an effective bandwidth: bytes read per token are the weights' size. */
function bandwidthToTokensPerSecond(bandwidth: number, model: CandidateModel): number {
  // Tiny models are bounded by compute and overheads rather than bandwidth; cap the guess.
  return Math.min(MAX_GUESSED_TOKENS_PER_SECOND, bandwidth / weightBytes(model));
}

function weightBytes(model: CandidateModel): number {
  return Math.max(model.sizeBytes, 1e8);
}

/**
 * The node's effective bandwidth from what this node measured there on other models (mean of
 * tokens/s × size), or undefined when nothing was measured: a measured speed outranks any claim.
 */
function measuredBandwidth(node: Candidate): number | undefined {
  let sum = 0;
  let count = 0;
  for (const [name, sample] of Object.entries(node.measured.perModel)) {
    const tps = positive(sample.tokensPerSecond);
    const installed = findModel(node, normalizeModelName(name));
    if (tps === undefined || installed === undefined) continue;
    sum += tps * weightBytes(installed);
    count += 1;
  }
  return count === 0 ? undefined : sum / count;
}

/** Output tokens/s of `model` on `node` and where the figure came from. */
function tokensPerSecondOf(
  node: Candidate,
  model: CandidateModel,
  d: RouterDefaults,
): { tokensPerSecond: number; source: TokensPerSecondSource } {
  const byName = <T>(table: Record<string, T> | undefined): T | undefined =>
    table?.[model.name] ?? table?.[normalizeModelName(model.name)];
  const measured = positive(byName(node.measured.perModel)?.tokensPerSecond);
  if (measured !== undefined) return { tokensPerSecond: measured, source: 'measured' };
  const bandwidth = measuredBandwidth(node);
  if (bandwidth !== undefined) {
    return { tokensPerSecond: bandwidthToTokensPerSecond(bandwidth, model), source: 'derived' };
  }
  const guess = guessTokensPerSecond(node, model, d);
  const claim = positive(byName(node.claimed?.perModel)?.tokensPerSecond);
  // A claim may only slow the estimate down: anyone can claim to be fast.
  if (claim !== undefined) return { tokensPerSecond: Math.min(claim, guess), source: 'claimed' };
  return { tokensPerSecond: guess, source: 'guessed' };
}

/** Whether `model` on a node is warm for a request asking for `numCtx`, at `now`. */
export function loadStateOf(model: CandidateModel, numCtx: number | undefined, now: number): LoadState {
  if (!model.loaded) return 'not loaded';
  if (model.expiresAt !== undefined && model.expiresAt <= now) return 'expired';
  if (model.contextLength === undefined) return 'loaded';
  // A request without num_ctx keeps a runner Ollama sized itself, but reloads one loaded with an
  // explicit num_ctx (routes.go usesAutomaticNumCtx; sched.go needsReload compares the options).
  if (numCtx === undefined)
    return AUTO_CONTEXT_LENGTHS.includes(model.contextLength) ? 'loaded' : 'num_ctx differs';
  return numCtx === model.contextLength ? 'loaded' : 'num_ctx differs';
}

/** What the caller knows of the node beyond its card: whether loading means unloading others. */
export interface EstimateContext {
  /** The model fits only once other loaded models unload (memory-fit.ts evictsBytes > 0). */
  unloadsOthers?: boolean;
}

/**
 * Expected completion time of `task` on `node` running `model` (one of its installed models):
 * queueing (or the drain of a runner that must unload first) + cold load + prompt overhead +
 * prompt evaluation + generation + network.
 * Queueing: with `slots` parallel slots and `active + queued` requests ahead, a new request
 * waits for `(ahead - slots + 1) / slots` service times of its own size when every slot is busy.
 */
export function estimateCompletionMs(
  task: Pick<Task, 'promptTokens' | 'maxTokens' | 'numCtx' | 'affinity'> & { now?: number },
  node: Candidate,
  model: CandidateModel,
  defaults: Partial<RouterDefaults> = {},
  disabledTerms: readonly CostTerm[] = [],
  context: EstimateContext = {},
): CompletionEstimate {
  const d: RouterDefaults = { ...DEFAULT_ROUTER_DEFAULTS, ...defaults };
  const gpu = node.memory.gpuCount > 0;
  const measured =
    node.measured.perModel[model.name] ?? node.measured.perModel[normalizeModelName(model.name)] ?? {};
  const promptTokens = Math.max(0, task.promptTokens ?? d.promptTokens);
  const maxTokens = Math.max(0, task.maxTokens ?? d.maxTokens);

  const loadState = loadStateOf(model, task.numCtx, task.now ?? Number.NEGATIVE_INFINITY);
  const measuredLoadRate = positive(node.measured.loadBytesPerSecond);
  const loadBytesPerSecond = measuredLoadRate ?? d.loadBytesPerSecond;
  const cold = loadState !== 'loaded' && !disabledTerms.includes('load');
  const loadMs = cold ? (model.sizeBytes / loadBytesPerSecond) * 1000 : 0;

  // A reload starts from an empty KV cache, so nothing of the previous turn is reused.
  const cachedTokens =
    task.affinity !== undefined &&
    task.affinity.nodeId === node.id &&
    loadState === 'loaded' &&
    (task.affinity.laterRequests ?? 0) < Math.max(1, Math.floor(node.load.slots)) &&
    !disabledTerms.includes('affinity')
      ? Math.min(promptTokens, Math.max(0, task.affinity.cachedTokens))
      : 0;
  const measuredPromptRate = positive(measured.promptTokensPerSecond);
  const derivedPromptRate = measuredPromptRate === undefined ? derivedPromptRateOf(node, model) : undefined;
  const promptTokensPerSecond =
    measuredPromptRate ??
    derivedPromptRate?.tokensPerSecond ??
    (gpu ? d.gpuPromptTokensPerSecond : d.cpuPromptTokensPerSecond);
  const promptEvalMs = ((promptTokens - cachedTokens) / promptTokensPerSecond) * 1000;
  const overheadMs =
    measuredPromptRate !== undefined
      ? (nonNegative(measured.promptOverheadMs) ?? 0)
      : derivedPromptRate !== undefined
        ? derivedPromptRate.overheadMs
        : gpu
          ? d.gpuTtftMs
          : d.cpuTtftMs;
  const measuredTtft =
    measuredPromptRate === undefined && derivedPromptRate === undefined
      ? nonNegative(measured.ttftMs)
      : undefined;
  const ttftMs = measuredTtft ?? overheadMs + promptEvalMs;

  const { tokensPerSecond, source } = tokensPerSecondOf(node, model, d);
  const generateMs = (maxTokens / tokensPerSecond) * 1000;
  const serviceMs = ttftMs + generateMs;

  const slots = Math.max(1, Math.floor(node.load.slots));
  const ahead = Math.max(0, node.load.activeTasks) + Math.max(0, node.load.queueDepth);
  const waitMs = ahead >= slots ? ((ahead - slots + 1) / slots) * serviceMs : 0;
  const rttMs = node.isLocal ? 0 : (nonNegative(node.measured.rttMs) ?? d.rttMs);

  // The running requests are of unknown size: each is taken to need this one's service without
  // its prompt, and the last of `n` to finish in n/(n+1) of it (the maximum of n uniform remainders).
  const running = Math.max(0, node.load.activeTasks);
  const unloadsBusy =
    cold && running > 0 && (loadState === 'num_ctx differs' || context.unloadsOthers === true);
  const evaluatedMs = measuredTtft === undefined ? promptEvalMs : 0;
  const drainMs = unloadsBusy ? ((serviceMs - evaluatedMs) * running) / (running + 1) : 0;

  return {
    totalMs: Math.max(waitMs, drainMs) + loadMs + serviceMs + rttMs,
    waitMs,
    drainMs,
    drainRequests: unloadsBusy ? running : 0,
    loadMs,
    loadState,
    modelBytes: model.sizeBytes,
    loadBytesPerSecond,
    loadSource: measuredLoadRate === undefined ? 'guessed' : 'measured',
    ttftMs,
    promptTokens,
    cachedTokens,
    promptEvalMs: measuredTtft === undefined ? promptEvalMs : 0,
    promptTokensPerSecond,
    promptSource:
      measuredPromptRate !== undefined ? 'measured' : derivedPromptRate !== undefined ? 'derived' : 'guessed',
    generateMs,
    rttMs,
    tokensPerSecond,
    tokensPerSecondSource: source,
    ttftSource: measuredTtft === undefined ? 'modelled' : 'measured',
  };
}

/**
 * A node's prompt speed for a model it has not run, from what was measured there on others:
 * the mean of (tokens/s × weight bytes) over them, divided by this model's weight bytes.
 */
function derivedPromptRateOf(
  node: Candidate,
  model: CandidateModel,
): { tokensPerSecond: number; overheadMs: number } | undefined {
  let work = 0;
  let overhead = 0;
  let count = 0;
  for (const [name, sample] of Object.entries(node.measured.perModel)) {
    const rate = positive(sample.promptTokensPerSecond);
    const installed = findModel(node, normalizeModelName(name));
    if (rate === undefined || installed === undefined) continue;
    work += rate * weightBytes(installed);
    overhead += nonNegative(sample.promptOverheadMs) ?? 0;
    count += 1;
  }
  if (count === 0) return undefined;
  return { tokensPerSecond: work / count / weightBytes(model), overheadMs: overhead / count };
}

/** A prompt's length in tokens before it is tokenised: four characters a token, as English averages. */
export function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(Math.max(0, chars) / CHARS_PER_TOKEN));
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

function nonNegative(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}
