/** Public contracts of the simulator: models, hardware, faults, options and stats. */

/** What a model can do, with Ollama's names (types/model/capability.go). */
export type Capability = 'completion' | 'tools' | 'insert' | 'vision' | 'embedding' | 'thinking';

/** A model the simulator can serve, as `/api/tags` and `/api/show` describe it. */
export interface SimModel {
  /** Full name with tag, such as `llama3.2:3b`. */
  name: string;
  /** Architecture family reported in `details.family`, such as `llama`. */
  family: string;
  /** `details.families` when it is more than the family, such as `['llama', 'clip']` for llava. */
  families?: string[];
  /** Human parameter count as Ollama prints it, such as `3.2B` or `23M`. */
  parameterSize: string;
  /** Quantization level as Ollama prints it, such as `Q4_K_M`. */
  quantization: string;
  /** Size of the weights on disk and in memory, in bytes. */
  sizeBytes: number;
  /**
   * What the model can do, as `/api/show` lists it. Ollama refuses chat on embedding-only models,
   * tools without `tools`, `think` without `thinking`, `suffix` without `insert`; images reach
   * only `vision` models.
   */
  capabilities: Capability[];
  /** Length of the embedding vectors, for embedding models. */
  embeddingDimensions?: number;
  /** Context length shown in `/api/show` model_info; default 131072 (512 for embedding models). */
  contextLength?: number;
}

/** The simulated machine: how fast it generates and how much fits in memory. */
export interface HardwareProfile {
  /** Profile name, such as `gpu`. */
  name: string;
  /** Generation speed for a model of `referenceParamsB` billion parameters; scales inversely with size. */
  tokensPerSecond: number;
  /** Parameter count (billions) at which `tokensPerSecond` holds. */
  referenceParamsB: number;
  /** Fixed latency before the first token, in milliseconds. */
  ttftMs: number;
  /** Prompt processing speed, adding prompt_tokens / this to the time to first token. */
  promptEvalTokensPerSecond: number;
  /** Generations that run at once; the others wait in the queue. */
  parallelSlots: number;
  /** Requests that may wait; past this the server answers 503 as Ollama does. */
  queueLimit: number;
  /** Memory for loaded models; models that do not fit wait for a runner to unload (the shortest keep_alive first, as Ollama). */
  memoryBytes: number;
  /** Models loaded at once (OLLAMA_MAX_LOADED_MODELS); default 3, as Ollama's is per GPU. */
  maxLoadedModels?: number;
  /** Load time per GB of weights, in milliseconds. */
  loadMsPerGB: number;
  /** Default keep-alive of a loaded model, in milliseconds (Ollama's default is 5 minutes). */
  keepAliveMs: number;
  /** Whether weights sit in VRAM (`size_vram` = size in `/api/ps`); default true. */
  gpu?: boolean;
  /** Download speed of `/api/pull`, in bytes per second; default 4 GB/s (so tests pull at once). */
  downloadBytesPerSecond?: number;
}

/** Faults to inject, to exercise failover. */
export interface FaultPlan {
  /** Die abruptly after sending this many tokens of a generation (0 = before the first token). */
  exitAfterTokens?: number;
  /** Stop sending after this many tokens of a generation but keep the connection open. */
  stallAfterTokens?: number;
  /** Fraction (0..1) of inference requests answered with an error. */
  errorRate?: number;
  /** HTTP status of injected errors; default 500. */
  errorStatus?: number;
  /** The next this-many inference requests fail with `errorStatus`. */
  failNextRequests?: number;
}

/** A tool call a test scripts: the tool's name and the arguments the model passes. */
export interface ScriptedToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** Options of {@link startOllamaSim}. */
export interface OllamaSimOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (any free port). */
  port?: number;
  /** A profile name from PROFILES or a full profile; default `gpu`. */
  profile?: string | HardwareProfile;
  /** Installed models: names from the catalog or full models; default llama3.2:3b and all-minilm:latest. */
  models?: Array<string | SimModel>;
  /** Initial fault plan. */
  faults?: FaultPlan;
  /** Models loaded at start (they never expire unless unloaded). */
  preload?: string[];
  /** Version reported by /api/version; default "0.12.0". */
  version?: string;
  /** Keep a log of the API requests received (see `requests()`); off by default. */
  recordRequests?: boolean;
  /** Scripted chat answers: a last user message's exact text to the answer given to it. */
  replies?: Record<string, string>;
  /**
   * Scripted tool calls: a last user message's exact text to the calls the model makes when the
   * chat offers every tool they name (else it answers as unscripted).
   */
  toolCalls?: Record<string, ScriptedToolCall[]>;
  /**
   * Keep the models on disk here in Ollama's layout (`manifests/…`, `blobs/sha256-…`) with real
   * sha256 digests, and pull names on other hosts from their registries; default in memory only.
   */
  storeDir?: string;
  /** With `storeDir`: bytes of each model's weights blob; default 64 KiB. */
  modelBytes?: number;
  /** With `storeDir`: also answer as a registry (`GET /v2/<ns>/<model>/manifests|blobs/…`). */
  serveRegistry?: boolean;
}

/** One API request as the simulator received it (outside /_sim). */
export interface RecordedRequest {
  /** HTTP method, e.g. `POST`. */
  method: string;
  /** Path without the query string, e.g. `/api/chat`. */
  path: string;
  /** The body exactly as sent ('' when there was none). */
  body: string;
  /** When it arrived, milliseconds since the Unix epoch. */
  receivedAt: number;
}

/** Counters exposed by `stats()` and `GET /_sim/stats`. */
export interface SimStats {
  /** HTTP requests received (outside /_sim). */
  requests: number;
  /** Requests holding a slot now. */
  active: number;
  /** Requests waiting for a slot now. */
  queued: number;
  /** Generations and embeddings answered in full. */
  completed: number;
  /** Requests whose client went away before the answer was complete. */
  cancelled: number;
  /** Requests refused because the queue was full. */
  rejected: number;
  /** Tokens generated and sent. */
  tokens: number;
}

/** A running simulator. */
export interface OllamaSim {
  /** Base URL, such as http://127.0.0.1:43123. */
  url: string;
  /** Bound port. */
  port: number;
  /** Replaces the fault plan. */
  setFaults(faults: FaultPlan): void;
  /** Replaces the scripted chat answers (see `OllamaSimOptions.replies`). */
  setReplies(replies: Record<string, string>): void;
  /** Replaces the scripted tool calls (see `OllamaSimOptions.toolCalls`). */
  setToolCalls(toolCalls: Record<string, ScriptedToolCall[]>): void;
  /** Current counters. */
  stats(): SimStats;
  /** The API requests received so far, oldest first; empty unless `recordRequests` is on. */
  requests(): RecordedRequest[];
  /** Stops the server and drops open streams; safe to call twice. */
  close(): Promise<void>;
}
