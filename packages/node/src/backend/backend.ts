/**
 * The contract between the node and an inference backend. Requests and chunks use Ollama's own
 * JSON shapes (https://github.com/ollama/ollama/blob/main/docs/api.md), so the HTTP layer can
 * pass fields it does not know straight through.
 */

/** A JSON object as Ollama sends or accepts it. */
export type OllamaObject = Record<string, unknown>;

/** One model as listed by /api/tags. */
export interface BackendModel {
  name: string;
  model: string;
  size: number;
  digest: string;
  modified_at: string;
  details: {
    family?: string;
    families?: string[] | null;
    parameter_size?: string;
    quantization_level?: string;
    format?: string;
    parent_model?: string;
  };
}

/** One loaded model as listed by /api/ps. */
export interface LoadedModel extends Omit<BackendModel, 'modified_at'> {
  size_vram: number;
  expires_at: string;
}

/** What the node last learnt about its backend. */
export interface BackendHealth {
  state: 'up' | 'unreachable' | 'unknown';
  url: string;
  version?: string;
  /** Why the last check failed, when state is 'unreachable'. */
  error?: string;
  checkedAt?: number;
}

/** Events a backend emits: `health` when its state changes. */
export type BackendHealthListener = (health: BackendHealth) => void;

/** An inference backend (a local Ollama). */
export interface Backend {
  readonly url: string;
  /** Starts health tracking; idempotent. */
  start(): Promise<void>;
  /** Stops health tracking and aborts requests in flight; idempotent. */
  stop(): Promise<void>;
  /**
   * Points the backend at another Ollama (Settings): new requests go there, requests in flight
   * finish where they began, and health is checked again at once. Throws InvalidOllamaUrlError.
   */
  setUrl(url: string): Promise<void>;
  health(): BackendHealth;
  onHealthChange(listener: BackendHealthListener): () => void;
  version(): Promise<string>;
  list(): Promise<BackendModel[]>;
  ps(): Promise<LoadedModel[]>;
  show(request: OllamaObject): Promise<OllamaObject>;
  /**
   * Always streams from the backend, whatever the client asked, so that every request can be
   * cancelled. The chunks come in batches, as Ollama's reads delivered them (never an empty one),
   * so that each layer above costs its promises once per read, not once per token.
   */
  chat(request: OllamaObject, signal: AbortSignal): AsyncIterable<readonly OllamaObject[]>;
  generate(request: OllamaObject, signal: AbortSignal): AsyncIterable<readonly OllamaObject[]>;
  embed(request: OllamaObject, signal: AbortSignal): Promise<OllamaObject>;
  /** Streams Ollama's pull progress; an error Ollama reports mid-stream is a BackendResponseError. */
  pull(model: string, signal: AbortSignal, options?: { insecure?: boolean }): AsyncIterable<OllamaObject>;
  delete(model: string): Promise<void>;
  copy(source: string, destination: string): Promise<void>;
  /** Streams Ollama's create progress (a CreateRequest body, `stream` forced on). */
  create(request: OllamaObject, signal: AbortSignal): AsyncIterable<OllamaObject>;
  /** Whether Ollama holds the blob `digest` (`sha256:<hex>`); Ollama's 400 for a bad digest throws. */
  hasBlob(digest: string): Promise<boolean>;
  /** Uploads a blob; resolves with Ollama's status, 201 when created and 200 when it was there. */
  createBlob(digest: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<number>;
}
