/**
 * @allerac/router: pure, deterministic placement of inference tasks on the mesh. No I/O and no
 * clock reads: the caller passes the time, the candidates (mesh cards plus what it measured) and
 * the task, and gets back every node ranked with an expected completion time and a reason.
 *
 * @example
 * ```ts
 * import { rankCandidates } from '@allerac/router';
 *
 * const ranked = rankCandidates({ model: 'llama3.2', maxTokens: 200, now: Date.now() }, candidates);
 * const best = ranked.find((p) => p.eligible); // undefined: answer 503 with the reasons
 * console.log(ranked.map((p) => `${p.nodeName}: ${p.reason}`).join('\n'));
 * // office: loaded; queue 1/4; ~58 tok/s measured; rtt 2 ms; est. 3.6 s
 * // kitchen: excluded: needs ~5.9 GB, 3.2 GB free
 * ```
 */

export type { PlacementPolicy } from './baselines.js';
export {
  createAutoPolicy,
  createLeastBusyPolicy,
  createRandomPolicy,
  createRoundRobinPolicy,
  mulberry32,
} from './baselines.js';
export { boundClaims } from './claims.js';
export {
  BYTES_PER_PARAMETER_Q4,
  CARD_STALE_MS,
  CHARS_PER_TOKEN,
  CLAIM_BOUNDS,
  DEFAULT_ROUTER_DEFAULTS,
  EWMA_ALPHA,
  FAILURE_HALF_LIFE_MS,
  FAILURE_PENALTY,
  MAX_GUESSED_TOKENS_PER_SECOND,
  MEMORY_SAFETY_MARGIN,
  MIN_COLD_LOAD_MS,
  SPECIALIZATION_BONUS,
} from './constants.js';
export { AmbiguousModelError, ModelNotFoundError, UnknownNodeError } from './errors.js';
export type { CompletionEstimate, EstimateContext, LoadState, TokensPerSecondSource } from './estimate.js';
export { estimateCompletionMs, estimateTokens, guessTokensPerSecond, loadStateOf } from './estimate.js';
export { Ewma, updateEwma } from './ewma.js';
export type { MemoryFit } from './memory-fit.js';
export { memoryFit } from './memory-fit.js';
export type { MeshModel } from './model-names.js';
export {
  AUTO_MODEL,
  isChatModel,
  listMeshModels,
  normalizeModelName,
  parameterBillions,
  resolveModel,
} from './model-names.js';
export type {
  AdviceMachine,
  AdviceModel,
  FitVerdict,
  MachineAdvice,
  ModelAdvice,
} from './placement-advice.js';
export { adviseHome, adviseModel, estimateModelBytes } from './placement-advice.js';
export type { PromptEvalRate } from './prompt-fit.js';
export { PromptEvalFit } from './prompt-fit.js';
export { evaluateCandidate, explainTerms, rankCandidates } from './rank.js';
export type {
  Candidate,
  CandidateClaims,
  CandidateLoad,
  CandidateMeasurements,
  CandidateMemory,
  CandidateModel,
  ClaimBounds,
  ConversationAffinity,
  CostTerm,
  MeasuredModel,
  Placement,
  Policy,
  RouterDefaults,
  RouterOptions,
  Task,
} from './types.js';
