/** The `auto`, `local-first` and `pin` policies: rank every candidate for a task, with reasons. */

import { boundClaims } from './claims.js';
import {
  CARD_STALE_MS,
  DEFAULT_ROUTER_DEFAULTS,
  FAILURE_HALF_LIFE_MS,
  FAILURE_PENALTY,
  SPECIALIZATION_BONUS,
} from './constants.js';
import { UnknownNodeError } from './errors.js';
import { type CompletionEstimate, estimateCompletionMs } from './estimate.js';
import { memoryFit } from './memory-fit.js';
import { AUTO_MODEL, compareIds, findModel, resolveModel } from './model-names.js';
import type { Candidate, Placement, RouterDefaults, RouterOptions, Task } from './types.js';

/**
 * Ranks every candidate for a task: eligible nodes first, best (lowest score) first, ties broken by
 * node id; then the excluded ones by node id, each with the reason it was excluded.
 *
 * @throws ModelNotFoundError / AmbiguousModelError from {@link resolveModel}
 * @throws UnknownNodeError when a `pin` policy names no candidate
 */
export function rankCandidates(
  task: Task,
  claimedCandidates: readonly Candidate[],
  options: RouterOptions = {},
): Placement[] {
  // Every decision below, `auto` model resolution included, sees remote cards within bounds.
  const candidates = claimedCandidates.map((c) => boundClaims(c, options.claimBounds));
  const policy = task.policy ?? { kind: 'auto' };
  const pinned = policy.kind === 'pin' ? findNode(policy.node, candidates) : undefined;
  // `auto` on a pinned node means the best model that node can run, not the mesh's best.
  const model = resolveModel(
    task.model,
    pinned !== undefined && task.model.trim().toLowerCase() === AUTO_MODEL ? [pinned] : candidates,
    options,
  );
  const placements = candidates.map((node) => {
    const placement = evaluateCandidate(task, node, model, options);
    if (pinned !== undefined && node !== pinned) {
      return {
        ...placement,
        eligible: false,
        score: Number.POSITIVE_INFINITY,
        reason: `excluded: pinned to ${pinned.name}`,
      };
    }
    if (pinned !== undefined && placement.eligible)
      return { ...placement, reason: `pinned; ${placement.reason}` };
    return placement;
  });
  const ranked = sortPlacements(placements);
  if (policy.kind === 'local-first') {
    const local = candidates.find((c) => c.isLocal);
    const index = ranked.findIndex((p) => p.eligible && p.nodeId === local?.id);
    if (index >= 0) {
      const [first] = ranked.splice(index, 1);
      ranked.unshift({ ...first!, reason: `local-first; ${first!.reason}` });
    }
  }
  return ranked;
}

/** Eligible first by score then id; excluded last by id. Deterministic for equal inputs. */
export function sortPlacements(placements: readonly Placement[]): Placement[] {
  return [...placements].sort((a, b) => {
    if (a.eligible !== b.eligible) return a.eligible ? -1 : 1;
    if (a.eligible && a.score !== b.score) return a.score - b.score;
    return compareIds(a.nodeId, b.nodeId);
  });
}

/** Finds a pinned node by id first, then by name (case-insensitive). */
function findNode(node: string, candidates: readonly Candidate[]): Candidate {
  const found =
    candidates.find((c) => c.id === node) ??
    candidates.find((c) => c.name.toLowerCase() === node.toLowerCase());
  if (found === undefined) {
    throw new UnknownNodeError(
      node,
      candidates.map((c) => c.name),
    );
  }
  return found;
}

/** Eligibility, estimate, score and reason of one node for an already-resolved model, policy aside. */
export function evaluateCandidate(
  task: Task,
  claimedNode: Candidate,
  model: string,
  options: RouterOptions = {},
): Placement {
  const node = boundClaims(claimedNode, options.claimBounds);
  const defaults: RouterDefaults = { ...DEFAULT_ROUTER_DEFAULTS, ...options.defaults };
  const base = { nodeId: node.id, nodeName: node.name, model };
  const excluded = (reason: string, estimateMs = Number.NaN): Placement => ({
    ...base,
    eligible: false,
    estimateMs,
    score: Number.POSITIVE_INFINITY,
    reason: `excluded: ${reason}`,
  });

  if (node.status === 'gone') return excluded('node gone');
  const staleMs = options.staleCardMs ?? CARD_STALE_MS;
  const age = task.now - node.cardIssuedAt;
  if (!node.isLocal && age > staleMs) {
    return excluded(`card stale (${formatSeconds(age)} old, limit ${formatSeconds(staleMs)})`);
  }
  if (!node.backendUp) return excluded('backend down');
  const installed = findModel(node, model);
  if (installed === undefined) return excluded(`${model} not installed`);

  let evicts = 0;
  if (!installed.loaded) {
    // Only a model larger than the free memory plus what other loaded models hold is excluded.
    const fit = memoryFit(node, installed.sizeBytes, {
      margin: options.memorySafetyMargin,
      except: installed.name,
    });
    if (!fit.fitsAfterUnload) {
      const estimate = estimateCompletionMs(task, node, installed, defaults, options.disabledTerms);
      return excluded(
        `needs ~${formatGB(fit.neededBytes)}, ${formatGB(fit.freeBytes)} free${fit.memory === 'vram' ? ' (VRAM)' : ''}${fit.reclaimableBytes > 0 ? ` and ${formatGB(fit.reclaimableBytes)} in other models` : ''}`,
        estimate.totalMs,
      );
    }
    evicts = fit.evictsBytes;
  }
  const estimate = estimateCompletionMs(task, node, installed, defaults, options.disabledTerms, {
    unloadsOthers: evicts > 0,
  });

  const parts = explainTerms(estimate, node);
  if (evicts > 0) parts.splice(1, 0, `unloads ~${formatGB(evicts)} of other models to fit`);

  let score = estimate.totalMs;
  const failures = fadedFailures(node, task.now, options.failureHalfLifeMs ?? FAILURE_HALF_LIFE_MS);
  if (failures > 0) {
    const penalty = (options.failurePenalty ?? FAILURE_PENALTY) * failures;
    score *= 1 + penalty;
    parts.push(`${node.measured.recentFailures} recent failure(s) (+${Math.round(penalty * 100)}%)`);
  }
  const wanted = task.specialization?.toLowerCase();
  if (wanted !== undefined && node.specializations.some((s) => s.toLowerCase() === wanted)) {
    const bonus = options.specializationBonus ?? SPECIALIZATION_BONUS;
    score *= bonus;
    parts.push(`specialization "${task.specialization}" (-${Math.round((1 - bonus) * 100)}%)`);
  }
  parts.push(`est. ${formatSeconds(estimate.totalMs)}`);
  return {
    ...base,
    eligible: true,
    estimateMs: estimate.totalMs,
    score,
    reason: parts.join('; '),
    terms: estimate,
    ...(evicts > 0 ? { evictsBytes: evicts } : {}),
  };
}

/** Each term of an estimate with its number and where the number came from. */
export function explainTerms(e: CompletionEstimate, node: Candidate): string[] {
  const parts: string[] = [];
  parts.push(
    e.loadState === 'loaded'
      ? 'loaded'
      : `${e.loadState} (+${formatSeconds(e.loadMs)} to load at ${formatGB(e.loadBytesPerSecond)}/s ${e.loadSource})`,
  );
  if (e.drainMs > 0) {
    parts.push(
      `waits ~${formatSeconds(e.drainMs)} for ${e.drainRequests} running request(s) before the runner unloads`,
    );
  }
  const ahead = node.load.activeTasks + node.load.queueDepth;
  parts.push(
    `queue ${ahead}/${Math.max(1, node.load.slots)}${e.waitMs > 0 ? ` (+${formatSeconds(e.waitMs)} wait)` : ''}`,
  );
  if (e.ttftSource === 'measured') {
    parts.push(`ttft ${formatSeconds(e.ttftMs)} measured`);
  } else {
    const cached = e.cachedTokens > 0 ? `, ${e.cachedTokens} cached from the last turn` : '';
    parts.push(
      `prompt ${e.promptTokens} tok${cached} at ~${Math.round(e.promptTokensPerSecond)} tok/s ${e.promptSource} (+${formatSeconds(e.promptEvalMs)})`,
    );
  }
  parts.push(
    `~${Math.round(e.tokensPerSecond)} tok/s ${e.tokensPerSecondSource} (+${formatSeconds(e.generateMs)} to generate)`,
  );
  if (!node.isLocal) parts.push(`rtt ${Math.round(e.rttMs)} ms`);
  return parts;
}

/** Recent failures weighted by how long ago the last one was (halving every half-life). */
function fadedFailures(node: Candidate, now: number, halfLifeMs: number): number {
  const count = Math.max(0, node.measured.recentFailures);
  if (count === 0) return 0;
  const last = node.measured.lastFailureAt;
  if (last === undefined) return count;
  return count * 0.5 ** (Math.max(0, now - last) / halfLifeMs);
}

/** `5.1 GB` in decimal gigabytes, as disks and Ollama report sizes. */
export function formatGB(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** `1.9 s` below a minute and a half, `95 s` above. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 90 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}
