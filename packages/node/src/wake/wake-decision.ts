/**
 * Whether to wake a sleeping machine for a request, decided on fixed inputs: the best awake
 * placement, what each sleeping peer would take once awake, this node's settings. Pure; the
 * waking gateway gathers the inputs and acts on the verdict.
 */

/** A sleeping paired peer as a candidate for one request. */
export interface SleeperOption {
  id: string;
  name: string;
  /** Whether its remembered card holds the request's model and the router would place it there. */
  canServe: boolean;
  /** The router's estimate once awake (cold load included), ms; NaN when it cannot serve. */
  estimateMs: number;
  /** Whether its card says Wake-on-LAN is on and names at least one LAN MAC. */
  wakeable: boolean;
  /** Whether the home prefers it while it is on. */
  preferredWhenOn: boolean;
}

/** Everything the decision looks at. */
export interface WakeDecisionInput {
  /** `wake.enabled` on this node. */
  wakeEnabled: boolean;
  /** `routing.patienceMs`: how long the user will wait for a better machine. */
  patienceMs: number;
  /** The best awake placement, or undefined when no awake node can serve the model. */
  awake: { nodeName: string; estimateMs: number } | undefined;
  /** The sleeping paired peers. */
  sleepers: readonly SleeperOption[];
}

/** The verdict, with its reason for the route explanation and the answer's `allerac` metadata. */
export type WakeDecision =
  | { action: 'wake'; peer: SleeperOption; reason: string }
  | { action: 'serve'; reason: string | undefined };

/** A sleeper is "clearly faster" when it would finish in at most this share of the awake best's time. */
export const CLEARLY_FASTER_RATIO = 0.5;

/** Decides whether to wake a sleeping peer for a request, or serve at once (and why). */
export function decideWake(input: WakeDecisionInput): WakeDecision {
  const able = input.sleepers.filter((s) => s.canServe);
  if (able.length === 0) return { action: 'serve', reason: undefined };
  const wakeable = able.filter((s) => s.wakeable);
  if (wakeable.length === 0) {
    const names = able.map((s) => s.name).join(', ');
    return {
      action: 'serve',
      reason: `${names} could serve it but is asleep and cannot be woken (Wake-on-LAN off or no MAC)`,
    };
  }
  // Preferred machines first, then the fastest; ties by id so equal inputs give equal verdicts.
  const best = [...wakeable].sort(
    (a, b) =>
      Number(b.preferredWhenOn) - Number(a.preferredWhenOn) ||
      a.estimateMs - b.estimateMs ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  )[0] as SleeperOption;
  const awake = input.awake;
  let why: string;
  if (awake === undefined) why = 'no awake node can serve it';
  else if (best.preferredWhenOn) why = 'it is preferred when on';
  else if (best.estimateMs <= awake.estimateMs * CLEARLY_FASTER_RATIO)
    why = `it is clearly faster (est. ${seconds(best.estimateMs)} against ${seconds(awake.estimateMs)} on ${awake.nodeName})`;
  else return { action: 'serve', reason: undefined };

  if (awake !== undefined && awake.estimateMs <= input.patienceMs) {
    return {
      action: 'serve',
      reason: `${best.name} is asleep; ${awake.nodeName} serves within the patience of ${seconds(input.patienceMs)} (est. ${seconds(awake.estimateMs)})`,
    };
  }
  if (!input.wakeEnabled) {
    return {
      action: 'serve',
      reason: `${best.name} is asleep and ${why}, but waking is off on this node (wake.enabled)`,
    };
  }
  const past =
    awake === undefined
      ? ''
      : `; ${awake.nodeName} would take est. ${seconds(awake.estimateMs)}, past the patience of ${seconds(input.patienceMs)}`;
  return { action: 'wake', peer: best, reason: `woke ${best.name}: ${why}${past}` };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
