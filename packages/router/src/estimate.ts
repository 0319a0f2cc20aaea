/** Expected completion time of a task on one node: wait for a slot, load, first token, generation, network. */
import { DEFAULT_ROUTER_DEFAULTS } from './constants.js';
import { normalizeModelName } from './model-names.js';
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
  /** Whether tokens/s came from measurements or from the bandwidth guess. */
  tokensPerSecondSource: 'measured' | 'guessed';
  /** Whether TTFT came from measurements or from the defaults. */
  ttftSource: 'measured' | 'guessed';
}

/** Guessed output tokens/s: generation is memory-bandwidth bound, so bandwidth / bytes read per token. */
export function guessTokensPerSecond(
  node: Candidate,
  model: CandidateModel,
  defaults: RouterDefaults,
): number {
  const bandwidth =
    node.memory.gpuCount > 0 ? defaults.gpuBandwidthBytesPerSecond : defaults.cpuBandwidthBytesPerSecond;
  // Tiny models are bounded by compute and overheads rather than bandwidth; cap the guess.
  return Math.min(500, bandwidth / Math.max(model.sizeBytes, 1e8));
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

  const measuredTps = positive(measured.tokensPerSecond);
  const tokensPerSecond = measuredTps ?? guessTokensPerSecond(node, model, d);
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
    tokensPerSecondSource: measuredTps === undefined ? 'guessed' : 'measured',
    ttftSource: measuredTtft === undefined ? 'guessed' : 'measured',
  };
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

function nonNegative(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}
