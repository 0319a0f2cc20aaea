/**
 * What each sleeping peer would take for a request once awake, by the router's own cost model on
 * its remembered (resting) card: cold load, prompt evaluation and generation, claims within bounds.
 */
import type { NodeCard } from '@allerac/protocol';
import { type Candidate, evaluateCandidate, resolveModel, type Task } from '@allerac/router';
import type { SleeperOption } from './wake-decision.js';

/** The router candidate a remembered card describes, as it will be once the machine is awake. */
export function sleeperCandidate(card: NodeCard, now: number): Candidate {
  const gpus = card.hardware.gpus.filter((gpu) => gpu.vramTotal > 0);
  return {
    id: card.peerId,
    name: card.name,
    isLocal: false,
    status: 'online',
    // The card is old by definition; it is judged as it will be when the machine rejoins.
    cardIssuedAt: now,
    backendUp: true,
    models: card.models.map((m) => ({
      name: m.name,
      sizeBytes: m.sizeBytes,
      loaded: false,
      parameterSize: m.parameterSize,
      family: m.family,
      quantization: m.quantization,
      ...(m.capabilities !== undefined ? { capabilities: m.capabilities } : {}),
    })),
    memory: {
      ramFreeBytes: card.hardware.ramFree,
      vramFreeBytes: gpus.reduce((sum, gpu) => sum + gpu.vramFree, 0),
      gpuCount: gpus.length,
    },
    load: { activeTasks: 0, queueDepth: 0, slots: card.load.slots },
    specializations: card.specializations,
    measured: { perModel: {}, recentFailures: 0 },
    claimed: {
      perModel: Object.fromEntries(
        Object.entries(card.load.tokensPerSecond).map(([model, tps]) => [model, { tokensPerSecond: tps }]),
      ),
    },
  };
}

/** Each sleeping card as an option for the task; one that lacks the model cannot serve. */
export function sleeperOptions(cards: readonly NodeCard[], task: Task): SleeperOption[] {
  return cards.map((card) => {
    const candidate = sleeperCandidate(card, task.now);
    const wakeable = card.wakeOnLan === true && (card.macs?.length ?? 0) > 0;
    const base = {
      id: card.peerId,
      name: card.name,
      wakeable,
      preferredWhenOn: card.preferredWhenOn === true,
    };
    let model: string;
    try {
      model = resolveModel(task.model, [candidate]);
    } catch {
      return { ...base, canServe: false, estimateMs: Number.NaN };
    }
    const placement = evaluateCandidate(task, candidate, model);
    return { ...base, canServe: placement.eligible, estimateMs: placement.estimateMs };
  });
}
