import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  DEFAULT_ROUTER_DEFAULTS,
  estimateCompletionMs,
  estimateTokens,
  explainTerms,
  guessTokensPerSecond,
} from '../src/index.js';
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

describe('estimateCompletionMs: cost terms', () => {
  const cpu = (measured: Partial<Candidate['measured']> = {}) =>
    node('mini', { measured: { perModel: {}, recentFailures: 0, ...measured } });
  const llama = model('llama3.2:3b', 2);

  it('should price a cold load at the learned load rate, and say it was measured', () => {
    const e = estimateCompletionMs({}, cpu({ loadBytesPerSecond: 0.5 * GB }), { ...llama, loaded: false });
    expect(e.loadState).toBe('not loaded');
    expect(e.loadMs).toBeCloseTo(4000, 6);
    expect(e.loadSource).toBe('measured');
    const [term] = explainTerms(e, cpu());
    expect(term).toBe('not loaded (+4.0 s to load at 0.5 GB/s measured)');
  });

  it('should fall back to the prior load rate when the node never loaded a model', () => {
    const e = estimateCompletionMs({}, cpu(), { ...llama, loaded: false });
    expect(e.loadMs).toBeCloseTo(2000, 6);
    expect(e.loadSource).toBe('guessed');
  });

  it('should count a model loaded with another num_ctx as cold, and one with the same as warm', () => {
    const loaded = { ...llama, contextLength: 4096 };
    const other = estimateCompletionMs({ numCtx: 8192 }, cpu(), loaded);
    expect(other.loadState).toBe('num_ctx differs');
    expect(other.loadMs).toBeCloseTo(2000, 6);
    expect(explainTerms(other, cpu())[0]).toBe('num_ctx differs (+2.0 s to load at 1.0 GB/s guessed)');
    expect(estimateCompletionMs({ numCtx: 4096 }, cpu(), loaded).loadMs).toBe(0);
    // No num_ctx in the request: Ollama keeps a context it chose itself (4k, 32k or 256k)...
    expect(estimateCompletionMs({}, cpu(), loaded).loadMs).toBe(0);
    expect(estimateCompletionMs({}, cpu(), { ...llama, contextLength: 32_768 }).loadMs).toBe(0);
    // ...but reloads a runner that was asked for another one (routes.go usesAutomaticNumCtx).
    const explicit = estimateCompletionMs({}, cpu(), { ...llama, contextLength: 8192 });
    expect(explicit.loadState).toBe('num_ctx differs');
    expect(explicit.loadMs).toBeCloseTo(2000, 6);
  });

  it('should count a model past its expires_at as cold', () => {
    const e = estimateCompletionMs({ now: 2000 }, cpu(), { ...llama, expiresAt: 1000 });
    expect(e.loadState).toBe('expired');
    expect(e.loadMs).toBeCloseTo(2000, 6);
    expect(estimateCompletionMs({ now: 500 }, cpu(), { ...llama, expiresAt: 1000 }).loadMs).toBe(0);
  });

  it('should wait for the requests on a runner that must unload first: another num_ctx, or room', () => {
    // Ollama unloads a runner only once its requests finish, and places nothing else meanwhile
    // (sched.go processPending). Two requests run; 100 tokens at ~12.5 tok/s plus 1.5 s overhead
    // each, so the later of the two is expected to finish in 2/3 of that.
    const busy = node('mini', { load: { activeTasks: 2, queueDepth: 0, slots: 4 } });
    const loaded = { ...llama, contextLength: 4096 };
    const wider = estimateCompletionMs({ numCtx: 8192, maxTokens: 100 }, busy, loaded);
    const service = wider.ttftMs - wider.promptEvalMs + wider.generateMs;
    expect(wider.drainMs).toBeCloseTo((service * 2) / 3, 6);
    expect(wider.totalMs).toBeCloseTo(
      wider.drainMs + wider.loadMs + wider.ttftMs + wider.generateMs + wider.rttMs,
      6,
    );
    expect(explainTerms(wider, busy)[1]).toBe(
      `waits ~${(wider.drainMs / 1000).toFixed(1)} s for 2 running request(s) before the runner unloads`,
    );
    // Loading beside what is loaded waits for nothing; an idle node waits for nothing.
    expect(estimateCompletionMs({ maxTokens: 100 }, busy, { ...llama, loaded: false }).drainMs).toBe(0);
    expect(estimateCompletionMs({ numCtx: 8192 }, cpu(), loaded).drainMs).toBe(0);
    // Room made by unloading another model, while requests run.
    const room = estimateCompletionMs({ maxTokens: 100 }, busy, { ...llama, loaded: false }, {}, [], {
      unloadsOthers: true,
    });
    expect(room.drainMs).toBeCloseTo(wider.drainMs, 6);
    // The ablation without the load term ignores it, as it ignores the load.
    expect(estimateCompletionMs({ numCtx: 8192, maxTokens: 100 }, busy, loaded, {}, ['load']).drainMs).toBe(
      0,
    );
  });

  it('should leave the load out when the load term is disabled (benchmark ablation)', () => {
    const e = estimateCompletionMs({}, cpu(), { ...llama, loaded: false }, {}, ['load']);
    expect(e.loadMs).toBe(0);
  });

  it('should price prompt evaluation at the learned rate plus the fitted overhead', () => {
    const measured = { perModel: { 'llama3.2:3b': { promptTokensPerSecond: 50, promptOverheadMs: 100 } } };
    const e = estimateCompletionMs({ promptTokens: 3000, maxTokens: 0 }, cpu(measured), llama);
    expect(e.promptEvalMs).toBeCloseTo(60_000, 6);
    expect(e.ttftMs).toBeCloseTo(60_100, 6);
    expect(e.promptSource).toBe('measured');
    expect(explainTerms(e, cpu())[2]).toBe('prompt 3000 tok at ~50 tok/s measured (+60.0 s)');
  });

  it('should derive the prompt rate of an unmeasured model from the node’s other models, by size', () => {
    const measured = {
      perModel: { 'llama3.2:3b': { promptTokensPerSecond: 2000, promptOverheadMs: 40 } },
    };
    const big = model('llama3.1:8b', 4, { loaded: true });
    const n = node('gpu', { models: [llama, big], measured: { ...measured, recentFailures: 0 } });
    const e = estimateCompletionMs({ promptTokens: 1000, maxTokens: 0 }, n, big);
    expect(e.promptSource).toBe('derived');
    expect(e.promptTokensPerSecond).toBeCloseTo(1000, 6);
    expect(e.ttftMs).toBeCloseTo(40 + 1000, 6);
  });

  it('should not re-evaluate the tokens a conversation left in this node’s cache', () => {
    const task = { promptTokens: 3000, maxTokens: 0, affinity: { nodeId: 'mini', cachedTokens: 2900 } };
    const e = estimateCompletionMs(task, cpu(), llama);
    expect(e.cachedTokens).toBe(2900);
    expect(e.promptEvalMs).toBeCloseTo((100 / 60) * 1000, 6);
    expect(explainTerms(e, cpu())[2]).toBe(
      'prompt 3000 tok, 2900 cached from the last turn at ~60 tok/s guessed (+1.7 s)',
    );
    // Another node, a reload, or the affinity term switched off: the whole prompt again.
    expect(
      estimateCompletionMs({ ...task, affinity: { nodeId: 'other', cachedTokens: 2900 } }, cpu(), llama)
        .cachedTokens,
    ).toBe(0);
    expect(estimateCompletionMs(task, cpu(), { ...llama, loaded: false }).cachedTokens).toBe(0);
    expect(estimateCompletionMs(task, cpu(), llama, {}, ['affinity']).cachedTokens).toBe(0);
    // As many later requests as the node has slots: Ollama gave the cache to one of them.
    const evicted = { ...task, affinity: { nodeId: 'mini', cachedTokens: 2900, laterRequests: 1 } };
    expect(estimateCompletionMs(evicted, cpu(), llama).cachedTokens).toBe(0);
    const fourSlots = node('mini', { load: { activeTasks: 0, queueDepth: 0, slots: 4 } });
    expect(estimateCompletionMs(evicted, fourSlots, llama).cachedTokens).toBe(2900);
    // Never more cached than the prompt holds.
    expect(
      estimateCompletionMs({ ...task, affinity: { nodeId: 'mini', cachedTokens: 9000 } }, cpu(), llama)
        .promptEvalMs,
    ).toBe(0);
  });

  it('should price generation at the measured tokens/s and queueing behind busy slots', () => {
    const busy = node('mini', {
      load: { activeTasks: 1, queueDepth: 0, slots: 1 },
      measured: {
        perModel: { 'llama3.2:3b': { tokensPerSecond: 20, promptTokensPerSecond: 100, promptOverheadMs: 0 } },
        recentFailures: 0,
      },
    });
    const e = estimateCompletionMs({ promptTokens: 100, maxTokens: 40 }, busy, llama);
    expect(e.generateMs).toBeCloseTo(2000, 6);
    expect(e.waitMs).toBeCloseTo(3000, 6);
    expect(e.totalMs).toBeCloseTo(3000 + 1000 + 2000 + 5, 6);
    expect(explainTerms(e, busy)).toEqual([
      'loaded',
      'queue 1/1 (+3.0 s wait)',
      'prompt 100 tok at ~100 tok/s measured (+1.0 s)',
      '~20 tok/s measured (+2.0 s to generate)',
      'rtt 5 ms',
    ]);
  });
});

describe('estimateTokens', () => {
  it('should count four characters a token, at least one', () => {
    expect(estimateTokens(0)).toBe(1);
    expect(estimateTokens(4)).toBe(1);
    expect(estimateTokens(5)).toBe(2);
    expect(estimateTokens(12_000)).toBe(3000);
  });
});
