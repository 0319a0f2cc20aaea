import { describe, expect, it } from 'vitest';
import { PeerMeasurements } from '../src/inference/measurements.js';

const NS = 1e6;
/** A CPU mini-PC's prompt phase: 600 ms of overhead, then 60 tokens/s. */
const cpu = (evaluated: number) => (600 + (evaluated / 60) * 1000) * NS;

describe('PeerMeasurements and the KV cache', () => {
  // Ollama counts a conversation's cached prefix in prompt_eval_count but evaluates only the rest
  // (llm/llama_server.go: prompt_eval_count = cache_n + prompt_n, prompt_eval_duration = prompt_ms).
  it('should not learn the prompt rate from a turn whose prefix the node had cached', () => {
    const m = new PeerMeasurements();
    for (const tokens of [200, 1500, 3000])
      m.recordSuccess('mini', 'llama3.2:3b', {
        metrics: { prompt_eval_count: tokens, prompt_eval_duration: cpu(tokens) },
      });
    // Next turns: 3,100 tokens counted, 100 evaluated; the sender says the prefix should be there.
    for (let i = 0; i < 3; i++)
      m.recordSuccess('mini', 'llama3.2:3b', {
        metrics: { prompt_eval_count: 3100, prompt_eval_duration: cpu(100) },
        cachedTokens: 3000,
      });
    expect(m.forNode('mini', undefined).perModel['llama3.2:3b']!.promptTokensPerSecond).toBeCloseTo(60, 3);
  });

  it('should learn from a long prompt after a short one, which only a separated line can judge', () => {
    const m = new PeerMeasurements();
    // One short prompt alone makes its 600 ms overhead look like 17 tokens/s.
    m.recordSuccess('mini', 'llama3.2:3b', {
      metrics: { prompt_eval_count: 10, prompt_eval_duration: cpu(10) },
    });
    m.recordSuccess('mini', 'llama3.2:3b', {
      metrics: { prompt_eval_count: 500, prompt_eval_duration: cpu(500) },
    });
    const model = m.forNode('mini', undefined).perModel['llama3.2:3b']!;
    expect(model.promptTokensPerSecond).toBeCloseTo(60, 3);
    expect(model.promptOverheadMs).toBeCloseTo(600, 3);
  });

  it('should tell a cache hit by its speed when the sender could not know', () => {
    const m = new PeerMeasurements();
    for (const tokens of [200, 1500, 3000])
      m.recordSuccess('mini', 'llama3.2:3b', {
        metrics: { prompt_eval_count: tokens, prompt_eval_duration: cpu(tokens) },
      });
    for (let i = 0; i < 3; i++)
      m.recordSuccess('mini', 'llama3.2:3b', {
        metrics: { prompt_eval_count: 3100, prompt_eval_duration: cpu(100) },
      });
    // A slower or ordinary prompt still teaches: the rate follows the node.
    m.recordSuccess('mini', 'llama3.2:3b', {
      metrics: { prompt_eval_count: 2000, prompt_eval_duration: cpu(2000) * 1.2 },
    });
    const rate = m.forNode('mini', undefined).perModel['llama3.2:3b']!.promptTokensPerSecond!;
    expect(rate).toBeGreaterThan(45);
    expect(rate).toBeLessThan(61);
  });
});
