/**
 * The anchors' placement policies, as baselines for the benchmark. They see only which nodes have
 * the model (online, backend up) and, for least-busy, the request count: no memory fit, no speed.
 * - random: Open WebUI picks one of the backends that list the model at random;
 * - round-robin: the classic load balancer;
 * - least-busy: LocalAI's federation sends to the worker with the fewest active requests.
 */
import { estimateCompletionMs } from './estimate.js';
import { compareIds, findModel, resolveModel } from './model-names.js';
import { rankCandidates } from './rank.js';
import type { Candidate, Placement, RouterOptions, Task } from './types.js';

/** A placement policy with the router's output shape; baselines may keep state between calls. */
export interface PlacementPolicy {
  /** Short name for reports (`auto`, `random`, `round-robin`, `least-busy`). */
  readonly name: string;
  /** Ranks the candidates for a task; the first eligible entry is the choice. */
  rank(task: Task, candidates: readonly Candidate[]): Placement[];
}

/** The router's own `auto` policy behind the {@link PlacementPolicy} interface; `name` tells ablations apart. */
export function createAutoPolicy(options: RouterOptions = {}, name = 'auto'): PlacementPolicy {
  return {
    name,
    rank: (task, candidates) => rankCandidates({ ...task, policy: { kind: 'auto' } }, candidates, options),
  };
}

/** Open WebUI's policy: a uniformly random node among those that have the model (seeded, so runs repeat). */
export function createRandomPolicy(seed = 1): PlacementPolicy {
  const next = mulberry32(seed);
  return {
    name: 'random',
    rank(task, candidates) {
      return baselineRank(task, candidates, (eligible) => {
        // Fisher-Yates with the seeded generator.
        const order = [...eligible];
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(next() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        return order.map((node) => ({ node, reason: 'random pick' }));
      });
    },
  };
}

/** Round-robin over the nodes that have the model; one counter shared by all models. */
export function createRoundRobinPolicy(): PlacementPolicy {
  let counter = 0;
  return {
    name: 'round-robin',
    rank(task, candidates) {
      return baselineRank(task, candidates, (eligible) => {
        const start = eligible.length === 0 ? 0 : counter % eligible.length;
        counter++;
        return [...eligible.slice(start), ...eligible.slice(0, start)].map((node) => ({
          node,
          reason: `round-robin turn ${counter}`,
        }));
      });
    },
  };
}

/** LocalAI's policy: fewest active plus queued requests; ties by node id. */
export function createLeastBusyPolicy(): PlacementPolicy {
  return {
    name: 'least-busy',
    rank(task, candidates) {
      return baselineRank(task, candidates, (eligible) =>
        [...eligible]
          .sort((a, b) => busy(a) - busy(b) || compareIds(a.id, b.id))
          .map((node) => ({ node, reason: `least busy: ${busy(node)} request(s) in flight` })),
      );
    },
  };
}

function busy(node: Candidate): number {
  return node.load.activeTasks + node.load.queueDepth;
}

/** Shared shape of the baselines: resolve like the router, order the nodes that have the model, exclude the rest. */
function baselineRank(
  task: Task,
  candidates: readonly Candidate[],
  order: (eligible: Candidate[]) => Array<{ node: Candidate; reason: string }>,
): Placement[] {
  const model = resolveModel(task.model, candidates);
  const sorted = [...candidates].sort((a, b) => compareIds(a.id, b.id));
  const eligible = sorted.filter(
    (c) => c.status === 'online' && c.backendUp && findModel(c, model) !== undefined,
  );
  const chosen = order(eligible).map(({ node, reason }, index): Placement => {
    const installed = findModel(node, model)!;
    const estimateMs = estimateCompletionMs(task, node, installed).totalMs;
    return { nodeId: node.id, nodeName: node.name, model, eligible: true, estimateMs, score: index, reason };
  });
  const rest = sorted
    .filter((c) => !eligible.includes(c))
    .map(
      (node): Placement => ({
        nodeId: node.id,
        nodeName: node.name,
        model,
        eligible: false,
        estimateMs: Number.NaN,
        score: Number.POSITIVE_INFINITY,
        reason:
          node.status === 'gone'
            ? 'excluded: node gone'
            : !node.backendUp
              ? 'excluded: backend down'
              : `excluded: ${model} not installed`,
      }),
    );
  return [...chosen, ...rest];
}

/** Small seeded PRNG (mulberry32): uniform in [0, 1), identical sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
