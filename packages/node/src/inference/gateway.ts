/**
 * The one place every inference request goes through. The HTTP layer never talks to a backend
 * directly: it asks the gateway, which decides who serves (only this node's backend for a single
 * node; the mesh router once peers exist) and says who did.
 */
import type { BackendModel, LoadedModel, OllamaObject } from '../backend/backend.js';
import type { AnswerAggregate } from './aggregate.js';

/** Who served a request, for the X-Allerac-Node header and the final `allerac` field. */
export interface ServedBy {
  /** The serving node's name. */
  node: string;
  /** How many candidates failed before this one answered. */
  failovers: number;
}

/** The node an attempt is about to go to, as a request's preparation sees it. */
export interface ServingNode {
  /** The node's id (its libp2p peer id, which space policies name). */
  id: string;
  /** The node's name. */
  name: string;
  /** Whether it is this node, so that the request does not leave it. */
  isLocal: boolean;
  /**
   * Whether that node had the model in memory when the attempt was placed (this node's /api/ps,
   * a peer's card); false means it loads first, so the first token comes late. Absent: unknown.
   */
  modelLoaded?: boolean | undefined;
}

/** A request made ready for one node. */
export interface PreparedRequest {
  /** The body to send to that node. */
  body: OllamaObject;
  /** Fields for the final `allerac` object when that node serves the answer. */
  allerac?: Record<string, unknown> | undefined;
  /**
   * Whether an answer begun on that node may be continued on `next` (which is then sent the
   * partial answer). Absent means anywhere. An answer drawn from private memories is not.
   */
  mayContinueOn?: ((next: ServingNode) => boolean) | undefined;
}

/**
 * Prepares a request for the node that will serve it. The gateway calls it after placement, once
 * per attempt (a retry or a continuation on another node is prepared again, for that node).
 */
export type PrepareRequest = (body: OllamaObject, node: ServingNode) => Promise<PreparedRequest>;

/** A started generation: the first chunk has arrived, so the HTTP status can be committed. */
export interface InferenceStream {
  /** The node chosen first, known before any byte is sent to the client. */
  readonly firstChoice: string;
  /** The first chunk, already received. */
  readonly first: OllamaObject;
  /**
   * The remaining chunks, ending with the `done` chunk, in batches (never an empty one): as the
   * serving Ollama's reads delivered them, so that each layer up to the client costs its promises
   * once per batch, not once per token (docs/ARCHITECTURE.md, "Inference").
   */
  readonly rest: AsyncIterable<readonly OllamaObject[]>;
  /**
   * The answer so far, accumulated once from every chunk handed out (across failovers), for the
   * continuation elsewhere and for whoever records or renders it.
   */
  readonly answer: AnswerAggregate;
  /** Who served in the end (it can change when a peer fails mid-stream). */
  servedBy(): ServedBy;
  /** The `allerac` fields the preparation gave for the node that served in the end. */
  preparedFor(): Record<string, unknown>;
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
  /** The Ollama version the home runs: the local one, or the lowest among the peers without one. */
  version(): Promise<string>;
  /**
   * Starts a generation; resolves once the first chunk arrived, rejects with a typed error before
   * that. `prepare`, when given, shapes the body for each node chosen to serve it.
   */
  generate(
    kind: GenerationKind,
    request: OllamaObject,
    signal: AbortSignal,
    prepare?: PrepareRequest,
  ): Promise<InferenceStream>;
  /** Computes embeddings. */
  embed(request: OllamaObject, signal: AbortSignal): Promise<{ response: OllamaObject; servedBy: ServedBy }>;
  /** Models this node's own backend holds. */
  localModels(): Promise<BackendModel[]>;
  /**
   * Computes embeddings on this node's own backend only, never a peer's: memory text (private
   * memories above all) is embedded at home, so it never leaves the node to be indexed.
   */
  embedLocally(request: OllamaObject, signal: AbortSignal): Promise<OllamaObject>;
}
