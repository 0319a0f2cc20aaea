/** Builders for router tests: a small home mesh with sensible defaults that each scenario overrides. */
import type { Candidate, CandidateModel } from '../src/index.js';

export const NOW = 1_000_000;
export const GB = 1e9;

/** An installed model; loaded unless told otherwise. */
export function model(name: string, sizeGB: number, extra: Partial<CandidateModel> = {}): CandidateModel {
  return { name, sizeBytes: sizeGB * GB, loaded: true, ...extra };
}

/** A node with a fresh card, an idle backend and no measurements. */
export function node(id: string, extra: Partial<Candidate> = {}): Candidate {
  return {
    id,
    name: id,
    isLocal: false,
    status: 'online',
    cardIssuedAt: NOW,
    backendUp: true,
    models: [model('llama3.2:3b', 2)],
    memory: { ramFreeBytes: 8 * GB, vramFreeBytes: 0, gpuCount: 0 },
    load: { activeTasks: 0, queueDepth: 0, slots: 1 },
    specializations: [],
    measured: { perModel: {}, recentFailures: 0 },
    ...extra,
  };
}

/** A GPU node with 8B and 3B models loaded, 4 slots. */
export function gpuNode(id: string, extra: Partial<Candidate> = {}): Candidate {
  return node(id, {
    models: [
      model('llama3.1:8b', 4.9, { parameterSize: '8.0B' }),
      model('llama3.2:3b', 2, { parameterSize: '3.2B' }),
    ],
    memory: { ramFreeBytes: 16 * GB, vramFreeBytes: 10 * GB, gpuCount: 1 },
    load: { activeTasks: 0, queueDepth: 0, slots: 4 },
    ...extra,
  });
}
