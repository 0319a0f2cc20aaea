/**
 * The prompt phase of a node as a line: duration = overhead + tokens / rate, fitted by exponentially
 * weighted least squares over Ollama's (prompt_eval_count, prompt_eval_duration) pairs. A plain
 * ratio would count the fixed part (the first forward pass, sampling setup) as slowness, which on
 * short prompts makes a GPU look 20× slower than it is.
 */
import { EWMA_ALPHA } from './constants.js';

/** What the fit says about a node's prompt evaluation. */
export interface PromptEvalRate {
  /** Marginal prompt evaluation speed, tokens/s. */
  tokensPerSecond: number;
  /** Fixed part of the prompt phase, ms; 0 until prompts of different lengths were seen. */
  overheadMs: number;
}

/** Weighted sums of a running least-squares line, the oldest samples fading with `alpha`. */
export class PromptEvalFit {
  readonly #alpha: number;
  #w = 0;
  #x = 0;
  #y = 0;
  #xx = 0;
  #xy = 0;

  constructor(alpha: number = EWMA_ALPHA) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`fit alpha must be in (0, 1], got ${alpha}`);
    this.#alpha = alpha;
  }

  /** Folds in one request's prompt phase; counts of zero and non-finite values teach nothing. */
  update(tokens: number, durationMs: number): void {
    if (!(Number.isFinite(tokens) && tokens > 0 && Number.isFinite(durationMs) && durationMs > 0)) return;
    const keep = 1 - this.#alpha;
    this.#w = this.#w * keep + 1;
    this.#x = this.#x * keep + tokens;
    this.#y = this.#y * keep + durationMs;
    this.#xx = this.#xx * keep + tokens * tokens;
    this.#xy = this.#xy * keep + tokens * durationMs;
  }

  /** The fitted rate, or undefined before any sample. */
  get value(): PromptEvalRate | undefined {
    if (this.#w === 0) return undefined;
    const meanX = this.#x / this.#w;
    const meanY = this.#y / this.#w;
    const variance = this.#xx / this.#w - meanX * meanX;
    // Same-length prompts cannot separate overhead from rate: the ratio is the slowest it can be.
    if (variance <= (meanX * 0.05) ** 2) return { tokensPerSecond: (meanX / meanY) * 1000, overheadMs: 0 };
    const slope = (this.#xy / this.#w - meanX * meanY) / variance;
    const intercept = meanY - slope * meanX;
    if (slope <= 0 || intercept < 0) return { tokensPerSecond: (meanX / meanY) * 1000, overheadMs: 0 };
    return { tokensPerSecond: 1000 / slope, overheadMs: intercept };
  }
}
