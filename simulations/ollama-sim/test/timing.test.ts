import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HardwareProfile, type OllamaSim, PROFILES, startOllamaSim } from '../src/index.js';
import { post } from './helpers.js';

/** 20 tok/s for a 3.2B model, so 20 tokens take about a second; bounds stay loose for loaded machines. */
const slow: HardwareProfile = {
  ...PROFILES.gpu!,
  name: 'slow',
  tokensPerSecond: 20,
  referenceParamsB: 3.2,
  ttftMs: 200,
  promptEvalTokensPerSecond: 1_000_000,
  loadMsPerGB: 100,
};

describe('timing', () => {
  let sim: OllamaSim;
  beforeAll(async () => {
    sim = await startOllamaSim({ profile: slow, models: ['llama3.2:3b', 'llama3.1:8b'] });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('should honour time to first token, load time and token rate roughly', async () => {
    const started = performance.now();
    const response = await post(`${sim.url}/api/chat`, {
      model: 'llama3.2:3b',
      messages: [{ role: 'user', content: 'timing' }],
      options: { num_predict: 20 },
    });
    const reader = response.body!.getReader();
    await reader.read();
    const firstAt = performance.now() - started;
    let text = '';
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const elapsed = performance.now() - started;
    // load ~200 ms (2 GB at 100 ms/GB) + ttft 200 ms before the first token.
    expect(firstAt).toBeGreaterThan(300);
    expect(elapsed).toBeGreaterThan(1100);
    expect(elapsed).toBeLessThan(6000);
    const final = JSON.parse(text.trim().split('\n').at(-1)!) as Record<string, number>;
    expect(final.eval_count).toBe(20);
    const tokensPerSecond = (final.eval_count! / final.eval_duration!) * 1e9;
    expect(tokensPerSecond).toBeGreaterThan(8);
    expect(tokensPerSecond).toBeLessThan(25);
    expect(final.load_duration).toBeGreaterThan(150e6);
  });

  it('should run a larger model slower on the same hardware', async () => {
    const reply = await post(`${sim.url}/api/generate`, {
      model: 'llama3.1:8b',
      prompt: 'x',
      stream: false,
      options: { num_predict: 8 },
    });
    const final = (await reply.json()) as Record<string, number>;
    const tokensPerSecond = (final.eval_count! / final.eval_duration!) * 1e9;
    // 20 tok/s at 3.2B scales to 8 tok/s at 8B.
    expect(tokensPerSecond).toBeGreaterThan(4);
    expect(tokensPerSecond).toBeLessThan(10);
  });
});
