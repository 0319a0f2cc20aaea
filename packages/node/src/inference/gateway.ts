/**
 * The one place every inference request goes through. The HTTP layer never talks to a backend
 * directly: it asks the gateway, which decides who serves (only this node's backend for a single
 * node; the mesh router once peers exist) and says who did.
 */
import type { BackendModel, LoadedModel, OllamaObject } from '../backend/backend.js';

/** Who served a request, for the X-Allerac-Node header and the final `allerac` field. */
export interface ServedBy {
  /** The serving node's name. */
  node: string;
  /** How many candidates failed before this one answered. */
  failovers: number;
}

/** A started generation: the first chunk has arrived, so the HTTP status can be committed. */
export interface InferenceStream {
  /** The node chosen first, known before any byte is sent to the client. */
  readonly firstChoice: string;
  /** The first chunk, already received. */
  readonly first: OllamaObject;
  /** The remaining chunks, ending with the `done` chunk. */
  readonly rest: AsyncIterable<OllamaObject>;
  /** Who served in the end (it can change when a peer fails mid-stream). */
  servedBy(): ServedBy;
}

/** The kind of generation: Ollama's /api/chat or /api/generate. */
export type GenerationKind = 'chat' | 'generate';

/** Routes inference requests to whichever backend should serve them. */
export interface InferenceGateway {
  /** Every model that can be served, without duplicates. */
  models(): Promise<BackendModel[]>;
  /** Models currently loaded in memory. */
  loaded(): Promise<LoadedModel[]>;
  /** Ollama's /api/show for a model. */
  show(request: OllamaObject): Promise<OllamaObject>;
  /** Starts a generation; resolves once the first chunk arrived, rejects with a typed error before that. */
  generate(kind: GenerationKind, request: OllamaObject, signal: AbortSignal): Promise<InferenceStream>;
  /** Computes embeddings. */
  embed(request: OllamaObject, signal: AbortSignal): Promise<{ response: OllamaObject; servedBy: ServedBy }>;
}
