import { describe, expect, it } from 'vitest';
import {
  createAutoPolicy,
  createLeastBusyPolicy,
  createRandomPolicy,
  createRoundRobinPolicy,
  mulberry32,
  type Task,
} from '../src/index.js';
import { gpuNode, model, NOW, node } from './fixtures.js';

const task: Task = { model: 'llama3.2', maxTokens: 100, now: NOW };
const mesh = [
  gpuNode('gpu', { models: [model('llama3.2:3b', 2)] }),
  node('mini-1'),
  node('mini-2'),
  node('other', { models: [model('qwen2.5:7b', 4.7)] }),
  node('gone', { status: 'gone' }),
];
const first = (ranked: { nodeId: string }[]) => ranked[0]!.nodeId;

describe('baselines', () => {
  it('should make random repeat for the same seed and cover every node that has the model', () => {
    const picks = (seed: number) => {
      const policy = createRandomPolicy(seed);
      return Array.from({ length: 60 }, () => first(policy.rank(task, mesh)));
    };
    expect(picks(7)).toEqual(picks(7));
    expect(picks(7)).not.toEqual(picks(8));
    expect(new Set(picks(7))).toEqual(new Set(['gpu', 'mini-1', 'mini-2']));
  });

  it('should rotate round-robin over the nodes that have the model', () => {
    const policy = createRoundRobinPolicy();
    const picks = Array.from({ length: 6 }, () => first(policy.rank(task, mesh)));
    expect(picks).toEqual(['gpu', 'mini-1', 'mini-2', 'gpu', 'mini-1', 'mini-2']);
  });

  it('should send least-busy to the fewest requests in flight, ties by id, whatever the speed', () => {
    const policy = createLeastBusyPolicy();
    expect(first(policy.rank(task, mesh))).toBe('gpu');
    const busyGpu = [gpuNode('gpu', { load: { activeTasks: 1, queueDepth: 0, slots: 4 } }), node('mini-1')];
    expect(first(policy.rank(task, busyGpu))).toBe('mini-1');
  });

  it('should exclude nodes without the model, gone or down, with the router output shape', () => {
    for (const policy of [createRandomPolicy(1), createRoundRobinPolicy(), createLeastBusyPolicy()]) {
      const ranked = policy.rank(task, mesh);
      expect(ranked.map((p) => p.eligible)).toEqual([true, true, true, false, false]);
      expect(ranked.slice(3).map((p) => p.reason)).toEqual([
        'excluded: node gone',
        'excluded: llama3.2:3b not installed',
      ]);
      for (const p of ranked) {
        expect(p.model).toBe('llama3.2:3b');
        expect(p.reason.length).toBeGreaterThan(0);
      }
    }
  });

  it('should let the auto policy ignore a pin in the task', () => {
    const ranked = createAutoPolicy().rank({ ...task, policy: { kind: 'pin', node: 'mini-1' } }, mesh);
    expect(first(ranked)).toBe('gpu');
  });

  it('should generate uniform-looking numbers in [0, 1) from mulberry32', () => {
    const next = mulberry32(42);
    const values = Array.from({ length: 10_000 }, next);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});
