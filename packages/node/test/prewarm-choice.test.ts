import { type Candidate, rankCandidates } from '@allerac/router';
import { describe, expect, it } from 'vitest';
import { bestOnceWarm } from '../src/inference/prewarm.js';

const GB = 1e9;
const NOW = 1_000_000;
const node = (id: string, extra: Partial<Candidate>): Candidate => ({
  id,
  name: id,
  isLocal: false,
  status: 'online',
  cardIssuedAt: NOW,
  backendUp: true,
  models: [],
  memory: { ramFreeBytes: 16 * GB, vramFreeBytes: 0, gpuCount: 0 },
  load: { activeTasks: 0, queueDepth: 0, slots: 1 },
  specializations: [],
  measured: { perModel: {}, recentFailures: 0 },
  ...extra,
});

describe('bestOnceWarm: where a model in demand should be pre-warmed', () => {
  // A short chat: the mini-PC with the 8B loaded beats the GPU box that must load it first.
  const mini = node('mini', { models: [{ name: 'llama3.1:8b', sizeBytes: 4.9 * GB, loaded: true }] });
  const gpu = node('gpu', {
    models: [{ name: 'llama3.1:8b', sizeBytes: 4.9 * GB, loaded: false }],
    memory: { ramFreeBytes: 16 * GB, vramFreeBytes: 24 * GB, gpuCount: 1 },
    load: { activeTasks: 0, queueDepth: 0, slots: 4 },
  });
  const ranked = rankCandidates({ model: 'llama3.1:8b', promptTokens: 20, maxTokens: 8, now: NOW }, [
    mini,
    gpu,
  ]);

  it('should pick the node fastest without its load, which the ranking itself puts second', () => {
    expect(ranked[0]!.nodeId).toBe('mini');
    const best = bestOnceWarm(ranked);
    expect(best?.nodeId).toBe('gpu');
    expect(best?.terms?.loadState).toBe('not loaded');
  });

  it('should pick nothing when no node is eligible', () => {
    expect(bestOnceWarm(ranked.map((p) => ({ ...p, eligible: false })))).toBeUndefined();
  });
});
