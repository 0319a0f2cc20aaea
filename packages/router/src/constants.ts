/** Defaults of the router, each with the reason for its value. */
import type { ClaimBounds, RouterDefaults } from './types.js';

/**
 * A remote card older than this is stale and its node is excluded. Cards are re-sent on every
 * change and at least every 10 s by the mesh, so 30 s is three missed updates: the peer is most
 * likely frozen or partitioned even if the departure has not been noticed yet.
 */
export const CARD_STALE_MS = 30_000;

/**
 * A model needs its size plus this fraction free before it is placed on a node that has not loaded
 * it: the KV cache for the default 2-4k context and llama.cpp's compute buffers add roughly
 * 10-20% to the weights. Placing a model without this margin is what froze the seed's mini-PC.
 */
export const MEMORY_SAFETY_MARGIN = 0.2;

/**
 * A node whose specializations include the task's gets its score multiplied by this: it wins
 * against a node up to 1/0.7 ≈ 1.4× faster, but never against one that is much faster, and never
 * when the model does not fit.
 */
export const SPECIALIZATION_BONUS = 0.7;

/**
 * Each recent failure adds this fraction of the estimate to the score (two failures double it),
 * fading with {@link FAILURE_HALF_LIFE_MS}, so a flaky peer drops down the ranking but comes
 * back once it has been quiet for a while.
 */
export const FAILURE_PENALTY = 0.5;

/** Half-life of a failure's penalty: after a minute of quiet a failure weighs half as much. */
export const FAILURE_HALF_LIFE_MS = 60_000;

/** Smoothing factor of the measured tokens/s and TTFT EWMAs: the last ~5 samples dominate. */
export const EWMA_ALPHA = 0.3;

/**
 * Guesses for unmeasured nodes. Token generation is memory-bandwidth bound, so tokens/s ≈
 * effective bandwidth / model size: ~300 GB/s gives ~60 tok/s for an 8B Q4 model (4.9 GB) on a
 * consumer GPU, and ~25 GB/s gives ~12 tok/s for a 3B Q4 model (2 GB) on a mini-PC's DDR4/5.
 */
export const DEFAULT_ROUTER_DEFAULTS: RouterDefaults = {
  promptTokens: 256,
  maxTokens: 256,
  gpuBandwidthBytesPerSecond: 300e9,
  cpuBandwidthBytesPerSecond: 25e9,
  gpuTtftMs: 120,
  cpuTtftMs: 600,
  gpuPromptTokensPerSecond: 2_000,
  cpuPromptTokensPerSecond: 60,
  // An NVMe SSD reads ~1-2 GB/s; page cache makes reloads faster, so this is the pessimistic end.
  loadBytesPerSecond: 1e9,
  // A home LAN pings in ~1 ms on Ethernet and a few ms on Wi-Fi.
  rttMs: 5,
};

/** Bytes per parameter of a Q4_K_M model, used when only `parameterSize` is known. */
export const BYTES_PER_PARAMETER_Q4 = 0.6;

/**
 * Ceilings on a remote card's claims. A card is signed by its peer but says whatever that peer
 * wants: a card claiming 1,000 slots would look idle while it queues, and one claiming terabytes
 * of VRAM would pass every memory check and steer `auto` to a model nobody here can run. The
 * ceilings sit above any home machine: Ollama runs 1 to 4 parallel requests by default (16 is
 * generous), a workstation holds at most 8 GPUs of at most 96 GB each (RTX PRO 6000), and the
 * largest unified-memory desktops have 512 GB.
 */
export const CLAIM_BOUNDS: ClaimBounds = {
  maxSlots: 16,
  maxGpus: 8,
  maxVramPerGpuBytes: 96e9,
  maxRamBytes: 512e9,
};

/** Guessed and claimed tokens/s never exceed this: tiny models are compute- and overhead-bound. */
export const MAX_GUESSED_TOKENS_PER_SECOND = 500;

/**
 * Characters per token for estimating a prompt before it is tokenised: BPE tokenizers of the
 * llama, qwen and gemma families average about four characters a token on English prose.
 */
export const CHARS_PER_TOKEN = 4;

/**
 * A `load_duration` shorter than this is the scheduler's bookkeeping on a warm model, not a load
 * from disk, and teaches nothing about the load rate.
 */
export const MIN_COLD_LOAD_MS = 50;

/**
 * The context lengths Ollama picks when a request leaves `num_ctx` out (4k/32k/256k by VRAM,
 * routes.go defaultNumCtx; sched.go nextLowerAutoNumCtx steps down the same values). A model loaded
 * with any other length was asked for it explicitly, and a request without `num_ctx` reloads it.
 */
export const AUTO_CONTEXT_LENGTHS: readonly number[] = [4096, 32_768, 262_144];
