/** Exponentially weighted moving averages for measured tokens/s and TTFT (no clock, no I/O). */
import { EWMA_ALPHA } from './constants.js';

/** Folds one sample into an average; the first sample is taken as is. Non-finite samples are ignored. */
export function updateEwma(
  previous: number | undefined,
  sample: number,
  alpha: number = EWMA_ALPHA,
): number | undefined {
  if (!Number.isFinite(sample)) return previous;
  if (previous === undefined) return sample;
  return previous + alpha * (sample - previous);
}

/** A running EWMA; `value` is undefined until the first sample. */
export class Ewma {
  /** Weight of the newest sample, in (0, 1]. */
  readonly alpha: number;
  #value: number | undefined;
  #count = 0;

  constructor(alpha: number = EWMA_ALPHA, initial?: number) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`EWMA alpha must be in (0, 1], got ${alpha}`);
    this.alpha = alpha;
    this.#value = initial;
  }

  /** The current average, or undefined before any sample. */
  get value(): number | undefined {
    return this.#value;
  }

  /** How many samples have been folded in. */
  get count(): number {
    return this.#count;
  }

  /** Folds a sample in and returns the new average. */
  update(sample: number): number | undefined {
    if (!Number.isFinite(sample)) return this.#value;
    this.#value = updateEwma(this.#value, sample, this.alpha);
    this.#count++;
    return this.#value;
  }
}
