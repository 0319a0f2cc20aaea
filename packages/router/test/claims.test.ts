import { describe, expect, it } from 'vitest';
import {
  boundClaims,
  CLAIM_BOUNDS,
  DEFAULT_ROUTER_DEFAULTS,
  estimateCompletionMs,
  guessTokensPerSecond,
  rankCandidates,
  type Task,
} from '../src/index.js';
import { GB, gpuNode, model, NOW, node } from './fixtures.js';

const BIG = 'llama3.1:8b';
const task = (extra: Partial<Task> = {}): Task => ({ model: BIG, maxTokens: 200, now: NOW, ...extra });
const claimed = (tokensPerSecond: number) => ({ perModel: { [BIG]: { tokensPerSecond } } });

describe('card claims: used only within bounds, replaced by measurements', () => {
  const gpuGuess = guessTokensPerSecond(gpuNode('g'), model(BIG, 4.9), DEFAULT_ROUTER_DEFAULTS);

  it('should rank an honest measured GPU above a card claiming an H200, 1000 slots and 5,000 tok/s', () => {
    const liar = gpuNode('a-liar', {
      memory: { ramFreeBytes: 2_000 * GB, vramFreeBytes: 141 * GB, gpuCount: 1 },
      load: { activeTasks: 40, queueDepth: 0, slots: 1000 },
      claimed: claimed(5000),
    });
    const honest = gpuNode('b-honest', {
      load: { activeTasks: 1, queueDepth: 0, slots: 4 },
      measured: { perModel: { [BIG]: { tokensPerSecond: 50, ttftMs: 150 } }, recentFailures: 0 },
    });
    const ranked = rankCandidates(task(), [liar, honest]);
    expect(ranked.map((p) => p.nodeId)).toEqual(['b-honest', 'a-liar']);
    expect(ranked[1]!.reason).toContain(`queue 40/${CLAIM_BOUNDS.maxSlots}`);
  });

  it('should never let a claimed speed raise the estimate above the guess for the hardware', () => {
    const e = estimateCompletionMs(task(), gpuNode('liar', { claimed: claimed(5000) }), model(BIG, 4.9));
    expect(e.tokensPerSecond).toBeCloseTo(gpuGuess, 6);
    expect(e.tokensPerSecondSource).toBe('claimed');
  });

  it('should use a claimed speed below the guess: a slow GPU may say so', () => {
    const e = estimateCompletionMs(task(), gpuNode('slow', { claimed: claimed(20) }), model(BIG, 4.9));
    expect(e.tokensPerSecond).toBe(20);
    expect(e.tokensPerSecondSource).toBe('claimed');
  });

  it("should replace the claim with this node's measurement of that model", () => {
    const peer = gpuNode('peer', {
      claimed: claimed(55),
      measured: { perModel: { [BIG]: { tokensPerSecond: 30 } }, recentFailures: 0 },
    });
    const [entry] = rankCandidates(task(), [peer]);
    expect(entry!.reason).toContain('~30 tok/s measured');
  });

  it('should replace the claim with a speed derived from measurements of other models on that node', () => {
    // 100 tok/s measured on a 2 GB model is ~200 GB/s effective: ~41 tok/s on a 4.9 GB model.
    const peer = gpuNode('peer', {
      claimed: claimed(55),
      measured: { perModel: { 'llama3.2:3b': { tokensPerSecond: 100 } }, recentFailures: 0 },
    });
    const e = estimateCompletionMs(task(), peer, model(BIG, 4.9));
    expect(e.tokensPerSecond).toBeCloseTo((100 * 2) / 4.9, 6);
    expect(e.tokensPerSecondSource).toBe('derived');
  });

  it('should cap claimed slots, GPUs, VRAM and RAM of a remote card, and leave the local node alone', () => {
    const remote = node('remote', {
      memory: { ramFreeBytes: 1e15, vramFreeBytes: 1e15, gpuCount: 64 },
      load: { activeTasks: 0, queueDepth: 0, slots: 10_000 },
    });
    const bounded = boundClaims(remote);
    expect(bounded.load.slots).toBe(CLAIM_BOUNDS.maxSlots);
    expect(bounded.memory.gpuCount).toBe(CLAIM_BOUNDS.maxGpus);
    expect(bounded.memory.vramFreeBytes).toBe(CLAIM_BOUNDS.maxGpus * CLAIM_BOUNDS.maxVramPerGpuBytes);
    expect(bounded.memory.ramFreeBytes).toBe(CLAIM_BOUNDS.maxRamBytes);
    const local = { ...remote, isLocal: true };
    expect(boundClaims(local)).toBe(local);
  });

  it('should exclude a model that fits only in implausibly large claimed VRAM', () => {
    const liar = gpuNode('liar', {
      models: [model('llama3.1:405b', 400, { loaded: false })],
      memory: { ramFreeBytes: 64 * GB, vramFreeBytes: 10_000 * GB, gpuCount: 1 },
    });
    const [entry] = rankCandidates(task({ model: 'llama3.1:405b' }), [liar]);
    expect(entry!.eligible).toBe(false);
    expect(entry!.reason).toMatch(/^excluded: needs ~480\.0 GB, 96\.0 GB free \(VRAM\)$/);
  });

  it('should not let implausible claimed memory steer the choice of the `auto` model', () => {
    const honest = gpuNode('honest');
    const liar = gpuNode('liar', {
      models: [model('llama3.1:405b', 400, { parameterSize: '405B', loaded: false })],
      memory: { ramFreeBytes: 64 * GB, vramFreeBytes: 10_000 * GB, gpuCount: 1 },
    });
    const [entry] = rankCandidates(task({ model: 'auto' }), [honest, liar]);
    expect(entry!.model).toBe(BIG);
  });
});
