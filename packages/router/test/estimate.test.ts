import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTER_DEFAULTS, estimateCompletionMs, guessTokensPerSecond } from '../src/index.js';
import { GB, gpuNode, model, node } from './fixtures.js';

describe('estimateCompletionMs', () => {
  const llama = model('llama3.2:3b', 2);

  it('should guess tokens/s from memory bandwidth: GPU ~60 at 8B, CPU ~12 at 3B', () => {
    expect(
      guessTokensPerSecond(gpuNode('g'), model('llama3.1:8b', 4.9), DEFAULT_ROUTER_DEFAULTS),
    ).toBeCloseTo(61, 0);
    expect(guessTokensPerSecond(node('c'), llama, DEFAULT_ROUTER_DEFAULTS)).toBeCloseTo(12.5, 1);
  });

  it('should add up TTFT, prompt, generation and RTT on an idle node', () => {
    const e = estimateCompletionMs({ promptTokens: 60, maxTokens: 125 }, node('c'), llama);
    expect(e.waitMs).toBe(0);
    expect(e.loadMs).toBe(0);
    expect(e.ttftMs).toBeCloseTo(600 + 1000, 6);
    expect(e.generateMs).toBeCloseTo(10_000, 6);
    expect(e.rttMs).toBe(5);
    expect(e.totalMs).toBeCloseTo(11_605, 6);
    expect(e.tokensPerSecondSource).toBe('guessed');
  });

  const queueCases = [
    { active: 0, queued: 0, slots: 4, waits: 0 },
    { active: 3, queued: 0, slots: 4, waits: 0 },
    { active: 4, queued: 0, slots: 4, waits: 0.25 },
    { active: 4, queued: 4, slots: 4, waits: 1.25 },
    { active: 1, queued: 2, slots: 1, waits: 3 },
  ];
  for (const c of queueCases) {
    it(`should wait ${c.waits} service times with ${c.active} active and ${c.queued} queued on ${c.slots} slots`, () => {
      const n = node('c', {
        load: { activeTasks: c.active, queueDepth: c.queued, slots: c.slots },
        measured: { perModel: { 'llama3.2:3b': { tokensPerSecond: 10, ttftMs: 0 } }, recentFailures: 0 },
      });
      const e = estimateCompletionMs({ maxTokens: 10 }, n, llama);
      expect(e.waitMs).toBeCloseTo(c.waits * 1000, 6);
    });
  }

  it('should add the load time for a model that is not loaded', () => {
    const e = estimateCompletionMs({}, node('c'), model('llama3.1:8b', 4.9, { loaded: false }), {
      loadBytesPerSecond: 2 * GB,
    });
    expect(e.loadMs).toBeCloseTo(2450, 6);
  });
});
