import type { CandidateMeasurements } from '@allerac/router';
import { Ewma, MIN_COLD_LOAD_MS, PromptEvalFit } from '@allerac/router';

interface ModelRecord {
  tokensPerSecond: Ewma;
  ttftMs: Ewma;
  prompt: PromptEvalFit;
}

interface PeerRecord {
  perModel: Map<string, ModelRecord>;
  loadBytesPerSecond: Ewma;
  recentFailures: number;
  lastFailureAt?: number;
}

/** Failures older than this are forgotten entirely (the router also fades them). */
const FAILURE_MEMORY_MS = 5 * 60_000;
const NS_PER_MS = 1e6;
/**
 * A prompt phase this much faster than the fitted line is a KV-cache hit, not the hardware: Ollama
 * counts cached tokens in prompt_eval_count (llm/llama_server.go, cache_n + prompt_n) but the
 * duration covers only those it evaluated. Real variation stays well within a factor of two.
 */
const CACHE_HIT_FRACTION = 0.5;

/** One finished generation, as the gateway saw it and as Ollama's final chunk reports it. */
export interface GenerationSample {
  /** Output tokens/s (eval_count / eval_duration). */
  tokensPerSecond?: number | undefined;
  /** Time to first token as the gateway measured it, network included. */
  ttftMs?: number | undefined;
  /** The final chunk's metrics, in Ollama's nanoseconds. */
  metrics?: OllamaMetrics | undefined;
  /** Size of the model in bytes, to turn a load_duration into a load rate. */
  modelBytes?: number | undefined;
  /**
   * Prompt tokens the sender expected the node's KV cache to hold (the conversation's previous
   * turn ran there). Ollama counts them in prompt_eval_count without evaluating them, so such a
   * sample says nothing about the prompt rate.
   */
  cachedTokens?: number | undefined;
}

/** The timing fields of Ollama's final chunk (api/types.go, Metrics). */
export interface OllamaMetrics {
  load_duration?: unknown;
  prompt_eval_count?: unknown;
  prompt_eval_duration?: unknown;
}

/**
 * What this node has measured about each node it sends to: throughput, TTFT and the prompt phase
 * per model, the load rate per node, and failures.
 */
export class PeerMeasurements {
  private readonly peers = new Map<string, PeerRecord>();

  /** Records a finished generation on `nodeId`. */
  recordSuccess(nodeId: string, model: string, sample: GenerationSample): void {
    const record = this.record(nodeId);
    let entry = record.perModel.get(model);
    if (entry === undefined) {
      entry = { tokensPerSecond: new Ewma(), ttftMs: new Ewma(), prompt: new PromptEvalFit() };
      record.perModel.set(model, entry);
    }
    if (sample.tokensPerSecond !== undefined && sample.tokensPerSecond > 0)
      entry.tokensPerSecond.update(sample.tokensPerSecond);
    if (sample.ttftMs !== undefined && sample.ttftMs >= 0) entry.ttftMs.update(sample.ttftMs);
    const metrics = sample.metrics;
    if (metrics === undefined) return;
    const promptCount = finite(metrics.prompt_eval_count);
    const promptNs = finite(metrics.prompt_eval_duration);
    if (
      promptCount !== undefined &&
      promptNs !== undefined &&
      !(sample.cachedTokens !== undefined && sample.cachedTokens > 0) &&
      !looksCached(entry.prompt, promptCount, promptNs / NS_PER_MS)
    )
      entry.prompt.update(promptCount, promptNs / NS_PER_MS);
    const loadMs = (finite(metrics.load_duration) ?? 0) / NS_PER_MS;
    // A warm model reports a few ms of bookkeeping as its load; only a real load gives a rate.
    if (loadMs >= MIN_COLD_LOAD_MS && sample.modelBytes !== undefined && sample.modelBytes > 0)
      record.loadBytesPerSecond.update(sample.modelBytes / (loadMs / 1000));
  }

  /** Records a failure (error, timeout, busy) on `nodeId`. */
  recordFailure(nodeId: string, now = Date.now()): void {
    const record = this.record(nodeId);
    record.recentFailures += 1;
    record.lastFailureAt = now;
  }

  /** The router's view of one node. */
  forNode(nodeId: string, rttMs: number | undefined, now = Date.now()): CandidateMeasurements {
    const record = this.peers.get(nodeId);
    const perModel: CandidateMeasurements['perModel'] = {};
    if (
      record !== undefined &&
      record.lastFailureAt !== undefined &&
      now - record.lastFailureAt > FAILURE_MEMORY_MS
    ) {
      record.recentFailures = 0;
      delete record.lastFailureAt;
    }
    for (const [model, entry] of record?.perModel ?? []) {
      const prompt = entry.prompt.value;
      perModel[model] = {
        ...(entry.tokensPerSecond.value !== undefined
          ? { tokensPerSecond: entry.tokensPerSecond.value }
          : {}),
        ...(entry.ttftMs.value !== undefined ? { ttftMs: entry.ttftMs.value } : {}),
        ...(prompt !== undefined
          ? { promptTokensPerSecond: prompt.tokensPerSecond, promptOverheadMs: prompt.overheadMs }
          : {}),
      };
    }
    const loadRate = record?.loadBytesPerSecond.value;
    return {
      ...(rttMs !== undefined ? { rttMs } : {}),
      perModel,
      ...(loadRate !== undefined ? { loadBytesPerSecond: loadRate } : {}),
      recentFailures: record?.recentFailures ?? 0,
      ...(record?.lastFailureAt !== undefined ? { lastFailureAt: record.lastFailureAt } : {}),
    };
  }

  private record(nodeId: string): PeerRecord {
    let record = this.peers.get(nodeId);
    if (record === undefined) {
      record = { perModel: new Map(), loadBytesPerSecond: new Ewma(), recentFailures: 0 };
      this.peers.set(nodeId, record);
    }
    return record;
  }
}

/** Whether a prompt phase was much faster than the line fitted so far: its prefix was cached. */
function looksCached(fit: PromptEvalFit, tokens: number, durationMs: number): boolean {
  const line = fit.value;
  // Until prompts of two lengths separate the overhead from the rate, the fit counts the overhead
  // as slowness and expects a long prompt to take far longer than it does: no verdict yet.
  if (line === undefined || line.overheadMs <= 0) return false;
  const predictedMs = line.overheadMs + (tokens / line.tokensPerSecond) * 1000;
  return durationMs < predictedMs * CACHE_HIT_FRACTION;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
