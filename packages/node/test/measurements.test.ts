import { describe, expect, it } from 'vitest';
import { PeerMeasurements } from '../src/inference/measurements.js';

const NS = 1e6;

describe('PeerMeasurements', () => {
  it('should learn the load rate from load_duration on cold loads only', () => {
    const m = new PeerMeasurements();
    // 2 GB in 4 s: 0.5 GB/s. A warm request's 5 ms of bookkeeping teaches nothing.
    m.recordSuccess('mini', 'llama3.2:3b', { metrics: { load_duration: 4000 * NS }, modelBytes: 2e9 });
    m.recordSuccess('mini', 'llama3.2:3b', { metrics: { load_duration: 5 * NS }, modelBytes: 2e9 });
    expect(m.forNode('mini', undefined).loadBytesPerSecond).toBeCloseTo(0.5e9, 0);
    expect(m.forNode('gpu', undefined).loadBytesPerSecond).toBeUndefined();
  });

  it('should fit the prompt rate and overhead from prompt_eval_count and prompt_eval_duration', () => {
    const m = new PeerMeasurements();
    for (const tokens of [20, 500, 3000]) {
      m.recordSuccess('mini', 'llama3.2:3b', {
        metrics: { prompt_eval_count: tokens, prompt_eval_duration: (600 + (tokens / 60) * 1000) * NS },
      });
    }
    const model = m.forNode('mini', undefined).perModel['llama3.2:3b']!;
    expect(model.promptTokensPerSecond).toBeCloseTo(60, 3);
    expect(model.promptOverheadMs).toBeCloseTo(600, 3);
  });

  it('should ignore metrics that are missing or not numbers', () => {
    const m = new PeerMeasurements();
    m.recordSuccess('mini', 'llama3.2:3b', {
      tokensPerSecond: 12,
      metrics: { load_duration: 'x', prompt_eval_count: null, prompt_eval_duration: 5 },
      modelBytes: 2e9,
    });
    const view = m.forNode('mini', undefined);
    expect(view.loadBytesPerSecond).toBeUndefined();
    expect(view.perModel['llama3.2:3b']).toEqual({ tokensPerSecond: 12 });
  });
});
