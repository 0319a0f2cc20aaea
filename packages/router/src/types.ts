/**
 * The router's input and output shapes. The node maps mesh cards (packages/protocol) plus what it
 * has measured itself onto {@link Candidate}; the router never sees the wire format.
 */

import type { CompletionEstimate } from './estimate.js';

/** Where a task may run. */
export type Policy =
  /** Least expected completion time over the whole mesh (the default). */
  | { kind: 'auto' }
  /** The local node whenever it is eligible; otherwise the same as `auto`. */
  | { kind: 'local-first' }
  /** Only the named node; `node` matches a candidate's `id` or its `name`. */
  | { kind: 'pin'; node: string };

/** One inference request to place. */
export interface Task {
  /** Model as the client wrote it (`llama3.2`, `llama3.2:3b`, ...) or `auto` for the best chat model. */
  model: string;
  /** Expected prompt length in tokens; {@link RouterDefaults.promptTokens} when unknown. */
  promptTokens?: number;
  /** Expected output length in tokens (num_predict / max_tokens); {@link RouterDefaults.maxTokens} when unknown. */
  maxTokens?: number;
  /** Specialization the task asks for (e.g. `code`); matching nodes get a bonus, never a memory-fit override. */
  specialization?: string;
  /** Placement policy; `auto` when absent. */
  policy?: Policy;
  /**
   * Context length the request asks for (`options.num_ctx`). Ollama reloads a model loaded with
   * another context length (server/sched.go, needsReload), so such a model counts as cold.
   */
  numCtx?: number;
  /** The node that served this conversation's previous turn, whose KV cache holds its prefix. */
  affinity?: ConversationAffinity;
  /** The caller's clock in milliseconds (same clock as `cardIssuedAt` and `lastFailureAt`). */
  now: number;
}

/** Where a conversation ran last and how much of the new prompt that node should still have cached. */
export interface ConversationAffinity {
  /** Candidate id of the node that served the previous turn. */
  nodeId: string;
  /** Prompt tokens of this request that node evaluated already (the shared prefix). */
  cachedTokens: number;
  /**
   * Requests for the same model sent to that node since the turn (each model's runner has its own
   * caches). Ollama's llama-server keeps one KV cache per parallel slot and gives an unrelated
   * request the least recently used one, so past `slots` later requests the prefix is most likely
   * gone. Unknown means assumed kept.
   */
  laterRequests?: number;
}

/** A model installed on a node, as its card reports it (Ollama's /api/tags plus /api/ps). */
export interface CandidateModel {
  /** Full Ollama name with tag, e.g. `llama3.2:3b`. */
  name: string;
  /** Size on disk in bytes, which is also roughly what it takes in memory once loaded. */
  sizeBytes: number;
  /** Whether the model is resident in memory right now (/api/ps). */
  loaded: boolean;
  /** Context length it is loaded with (/api/ps `context_length`); only meaningful when loaded. */
  contextLength?: number;
  /** When Ollama will unload it (/api/ps `expires_at`), on the task's clock; only when loaded. */
  expiresAt?: number;
  /** Ollama's `details.parameter_size`, e.g. `8.0B` or `567M`. */
  parameterSize?: string;
  /** Ollama's `details.family`, e.g. `llama`. */
  family?: string;
  /** Ollama's `details.quantization_level`, e.g. `Q4_K_M`. */
  quantization?: string;
  /** Ollama's capabilities, e.g. `['completion', 'tools']` or `['embedding']`. */
  capabilities?: string[];
}

/** Free memory as the node's card reports it. */
export interface CandidateMemory {
  /** Free system RAM in bytes. */
  ramFreeBytes: number;
  /** Free VRAM in bytes, summed over GPUs. */
  vramFreeBytes: number;
  /** Number of GPUs the backend can use; 0 means CPU inference from RAM. */
  gpuCount: number;
}

/** Live load as the node's card reports it (or as the caller counts it). */
export interface CandidateLoad {
  /** Requests being generated right now. */
  activeTasks: number;
  /** Requests waiting for a slot. */
  queueDepth: number;
  /** Requests the backend generates in parallel (OLLAMA_NUM_PARALLEL); at least 1. */
  slots: number;
}

/** What this node has measured itself about a model on a peer, as EWMAs (see {@link Ewma}). */
export interface MeasuredModel {
  /** Output tokens per second for one request. */
  tokensPerSecond?: number;
  /** Time to first token in ms, prompt evaluation included, network excluded. */
  ttftMs?: number;
  /** Prompt evaluation speed, tokens/s (Ollama's prompt_eval_count / prompt_eval_duration, fitted). */
  promptTokensPerSecond?: number;
  /** Fixed cost of the prompt phase that does not grow with its length, ms (the fit's intercept). */
  promptOverheadMs?: number;
}

/** What this node has measured about a peer. */
export interface CandidateMeasurements {
  /** Round-trip time to the peer in ms (libp2p ping); ignored for the local node. */
  rttMs?: number;
  /** Per model name (full name with tag). */
  perModel: Record<string, MeasuredModel>;
  /** How fast this node loads a model into memory, bytes/s (model size / Ollama's load_duration). */
  loadBytesPerSecond?: number;
  /** Failures recently seen on this peer (errors, timeouts, busy answers). */
  recentFailures: number;
  /** When the last failure happened, on the task's clock; failures fade from there. */
  lastFailureAt?: number;
}

/**
 * What a node says about its own speed (its card). A peer may lie, so the router uses a claim only
 * within bounds (never faster than its guess for the hardware) and only until it has measured.
 */
export interface CandidateClaims {
  /** Per model name (full name with tag). */
  perModel: Record<string, { tokensPerSecond?: number }>;
}

/** One node of the mesh as the router sees it. */
export interface Candidate {
  /** Stable node id (libp2p peer id). Ties break on it. */
  id: string;
  /** Human-readable node name (`--name`). */
  name: string;
  /** Whether this is the node running the router (no RTT, never stale). */
  isLocal: boolean;
  /** `gone` once the peer has left the mesh. */
  status: 'online' | 'gone';
  /** When the card data was issued, on the task's clock. */
  cardIssuedAt: number;
  /** Whether the node's inference backend (Ollama) answers. */
  backendUp: boolean;
  /** Installed models. */
  models: CandidateModel[];
  /** Free memory. */
  memory: CandidateMemory;
  /** Live load. */
  load: CandidateLoad;
  /** Specializations the node's owner declared (e.g. `code`, `vision`). */
  specializations: string[];
  /** What this node measured. */
  measured: CandidateMeasurements;
  /** What the node claims about itself beyond hardware and load; absent means nothing. */
  claimed?: CandidateClaims;
}

/** One ranked entry: where the task could go, how long it should take, and why. */
export interface Placement {
  /** Candidate id. */
  nodeId: string;
  /** Candidate name. */
  nodeName: string;
  /** Resolved full model name. */
  model: string;
  /** Whether the task may be sent there. */
  eligible: boolean;
  /** Expected completion time in ms (NaN when the node cannot run it at all). */
  estimateMs: number;
  /** Ranking key: the estimate adjusted for failures and specialization (lower is better). */
  score: number;
  /** Human-readable explanation, e.g. `loaded; queue 1/4; ~58 tok/s measured; est. 1.9 s`. */
  reason: string;
  /** Every term of the estimate with its inputs, when the node has the model. */
  terms?: CompletionEstimate;
  /** Bytes of other loaded models Ollama would unload there to fit this one; absent when it fits. */
  evictsBytes?: number;
}

/** Cost terms a benchmark may switch off to measure what each is worth; never set in production. */
export type CostTerm = 'load' | 'affinity';

/** Guesses used for nodes and models that have not been measured yet. */
export interface RouterDefaults {
  /** Prompt tokens assumed when the task does not say. */
  promptTokens: number;
  /** Output tokens assumed when the task does not say. */
  maxTokens: number;
  /** Effective memory bandwidth of a GPU node in bytes/s; tokens/s ≈ bandwidth / model size. */
  gpuBandwidthBytesPerSecond: number;
  /** Effective memory bandwidth of a CPU-only node in bytes/s. */
  cpuBandwidthBytesPerSecond: number;
  /** Time to first token (without prompt evaluation) on a GPU node, ms. */
  gpuTtftMs: number;
  /** Time to first token (without prompt evaluation) on a CPU node, ms. */
  cpuTtftMs: number;
  /** Prompt evaluation speed on a GPU node, tokens/s. */
  gpuPromptTokensPerSecond: number;
  /** Prompt evaluation speed on a CPU node, tokens/s. */
  cpuPromptTokensPerSecond: number;
  /** Model load rate from disk into memory, bytes/s. */
  loadBytesPerSecond: number;
  /** RTT assumed for a remote peer never pinged, ms. */
  rttMs: number;
}

/** Tunables of {@link rankCandidates}; every field has a default in constants.ts. */
export interface RouterOptions {
  /** Guesses for unmeasured nodes; merged over {@link DEFAULT_ROUTER_DEFAULTS}. */
  defaults?: Partial<RouterDefaults>;
  /** A remote card older than this (ms) is not trusted. */
  staleCardMs?: number;
  /** Fraction of a model's size added for KV cache and runtime buffers when checking memory fit. */
  memorySafetyMargin?: number;
  /** Score multiplier for a node whose specializations match the task's (below 1 favours it). */
  specializationBonus?: number;
  /** Score added per recent failure, as a fraction of the estimate, before fading. */
  failurePenalty?: number;
  /** Half-life of a failure's penalty, ms. */
  failureHalfLifeMs?: number;
  /** Ceilings on what a remote card may claim; merged over {@link CLAIM_BOUNDS}. */
  claimBounds?: Partial<ClaimBounds>;
  /** Terms left out of the estimate (ablation for benchmarks); empty by default. */
  disabledTerms?: readonly CostTerm[];
}

/** The most a remote card may claim; anything beyond is cut to these values. */
export interface ClaimBounds {
  /** Parallel generation slots. */
  maxSlots: number;
  /** GPUs. */
  maxGpus: number;
  /** Free VRAM per claimed GPU, bytes. */
  maxVramPerGpuBytes: number;
  /** Free system RAM, bytes. */
  maxRamBytes: number;
}
