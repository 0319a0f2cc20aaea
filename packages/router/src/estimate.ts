/** Expected completion time of a task on one node: wait for a slot, load, first token, generation, network. */
import { DEFAULT_ROUTER_DEFAULTS, MAX_GUESSED_TOKENS_PER_SECOND } from './constants.js';
import { findModel, normalizeModelName } from './model-names.js';
import type { Candidate, CandidateModel, RouterDefaults, Task } from './types.js';

/** The parts of an estimate, all in ms except the rates, so a route explanation can show them. */
export interface CompletionEstimate {
  /** Total expected time from sending the request to the last token, ms. */
  totalMs: number;
  /** Waiting for a free slot behind the node's active and queued requests. */
  waitMs: number;
  /** Loading the model into memory when it is not loaded. */
  loadMs: number;
  /** Time to first token, prompt evaluation included. */
  ttftMs: number;
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
  /** Whether TTFT came from measurements or from the defaults. */
  ttftSource: 'measured' | 'guessed';
}

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

/**
 * Expected completion time of `task` on `node` running `model` (one of its installed models).
 * Queueing: with `slots` parallel slots and `active + queued` requests ahead, a new request
 * waits for `(ahead - slots + 1) / slots` service times of its own size when every slot is busy.
 */
export function estimateCompletionMs(
  task: Pick<Task, 'promptTokens' | 'maxTokens'>,
  node: Candidate,
  model: CandidateModel,
  defaults: Partial<RouterDefaults> = {},
): CompletionEstimate {
  const d: RouterDefaults = { ...DEFAULT_ROUTER_DEFAULTS, ...defaults };
  const gpu = node.memory.gpuCount > 0;
  const measured =
    node.measured.perModel[model.name] ?? node.measured.perModel[normalizeModelName(model.name)] ?? {};
  const promptTokens = Math.max(0, task.promptTokens ?? d.promptTokens);
  const maxTokens = Math.max(0, task.maxTokens ?? d.maxTokens);

  const { tokensPerSecond, source } = tokensPerSecondOf(node, model, d);
  const measuredTtft = nonNegative(measured.ttftMs);
  const ttftMs =
    measuredTtft ??
    (gpu ? d.gpuTtftMs : d.cpuTtftMs) +
      (promptTokens / (gpu ? d.gpuPromptTokensPerSecond : d.cpuPromptTokensPerSecond)) * 1000;
  const generateMs = (maxTokens / tokensPerSecond) * 1000;
  const serviceMs = ttftMs + generateMs;

  const slots = Math.max(1, Math.floor(node.load.slots));
  const ahead = Math.max(0, node.load.activeTasks) + Math.max(0, node.load.queueDepth);
  const waitMs = ahead >= slots ? ((ahead - slots + 1) / slots) * serviceMs : 0;
  const loadMs = model.loaded ? 0 : (model.sizeBytes / d.loadBytesPerSecond) * 1000;
  const rttMs = node.isLocal ? 0 : (nonNegative(node.measured.rttMs) ?? d.rttMs);

  return {
    totalMs: waitMs + loadMs + serviceMs + rttMs,
    waitMs,
    loadMs,
    ttftMs,
    generateMs,
    rttMs,
    tokensPerSecond,
    tokensPerSecondSource: source,
    ttftSource: measuredTtft === undefined ? 'guessed' : 'measured',
  };
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

function nonNegative(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}
