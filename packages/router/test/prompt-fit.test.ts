import { describe, expect, it } from 'vitest';
import { PromptEvalFit } from '../src/index.js';

describe('PromptEvalFit', () => {
  it('should separate the fixed overhead from the per-token rate', () => {
    // A CPU mini-PC as ollama-sim's cpu profile: 600 ms overhead, 60 tok/s.
    const fit = new PromptEvalFit();
    for (const tokens of [16, 400, 30, 2000, 120]) fit.update(tokens, 600 + (tokens / 60) * 1000);
    expect(fit.value!.tokensPerSecond).toBeCloseTo(60, 3);
    expect(fit.value!.overheadMs).toBeCloseTo(600, 3);
  });

  it('should give the plain ratio, never a faster rate, while every prompt had the same length', () => {
    const fit = new PromptEvalFit();
    fit.update(16, 126);
    fit.update(16, 126);
    expect(fit.value).toEqual({ tokensPerSecond: (16 / 126) * 1000, overheadMs: 0 });
  });

  it('should be undefined before a sample and ignore empty or non-finite ones', () => {
    const fit = new PromptEvalFit();
    expect(fit.value).toBeUndefined();
    fit.update(0, 10);
    fit.update(10, Number.NaN);
    expect(fit.value).toBeUndefined();
  });
});
