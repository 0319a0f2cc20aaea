import type { InferErrorCode } from '@allerac/protocol';
import { NotFoundError, TooLargeError, UnavailableError, UpstreamError } from '../errors.js';

/** A peer answered an inference request with a typed error. */
export class RemoteInferenceError extends Error {
  override name = 'RemoteInferenceError';
  constructor(
    readonly code: InferErrorCode,
    message: string,
    /** Whether another candidate may succeed with the same request. */
    readonly retryable: boolean,
    /** The HTTP status the peer's Ollama answered with, when the error is its Ollama's. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A request too large for an inference frame: no peer could take it, so it is the client's. */
export class RequestTooLargeError extends TooLargeError {
  override name = 'RequestTooLargeError';
}

/** The connection to a peer broke, or its stream ended before the answer was done. */
export class PeerLostError extends Error {
  override name = 'PeerLostError';
}

/**
 * This node already has as many inference streams open to a peer as the peer accepts at once
 * (MAX_INBOUND_STREAMS); one more would only be reset. Counts as the peer being busy.
 */
export class PeerStreamLimitError extends Error {
  override name = 'PeerStreamLimitError';
  constructor(peerName: string, limit: number) {
    super(`${peerName} is busy: ${limit} inference streams from this node are open`);
  }
}

/** One node the router left out for a request, and why. */
export interface ExclusionReason {
  /** The node's name. */
  node: string;
  /** Why it cannot serve (no room for the model, backend down, ...). */
  reason: string;
}

/** Why this node's own Ollama could not be asked, when that is part of the story. */
export interface LocalBackendDown {
  url: string;
  error: string;
}

/** How long to wait before asking again when no node was eligible: a card or a backend may recover. */
export const NO_ELIGIBLE_RETRY_AFTER_S = 5;
/** Retry-After, in seconds, when every node that can serve is busy or briefly unreachable. */
export const BUSY_RETRY_AFTER_S = 2;

/** No node may serve the model now; `reasons` says why, node by node. */
export class NoEligibleNodeError extends UnavailableError {
  override name = 'NoEligibleNodeError';
  constructor(
    readonly model: string,
    readonly reasons: readonly ExclusionReason[] = [],
    readonly localBackend?: LocalBackendDown,
  ) {
    const local =
      localBackend === undefined
        ? ''
        : `the local Ollama at ${localBackend.url} is unreachable (${localBackend.error}); `;
    const why = reasons.map((r) => `${r.node}: ${r.reason}`).join('; ');
    super(
      `no node can serve ${model} right now${local === '' && why === '' ? '' : `: ${local}${why}`}`,
      NO_ELIGIBLE_RETRY_AFTER_S,
    );
  }
}

/**
 * Every node that can serve the model was busy, or (some of them) briefly unreachable; the mesh
 * will likely have room after `retryAfterSeconds`.
 */
export class AllBusyError extends UnavailableError {
  override name = 'AllBusyError';
  constructor(
    readonly model: string,
    /** Candidates tried. */
    readonly tried: number,
    /** How many of them were busy; the others could not be reached or lost the stream. */
    readonly busy: number,
    /** The last failure's message, when some were not busy. */
    last?: string,
    retryAfterSeconds = BUSY_RETRY_AFTER_S,
  ) {
    super(
      busy === tried
        ? `every node that can serve ${model} is busy (${tried} tried); retry shortly`
        : `every node that can serve ${model} is busy or unreachable right now (${busy} busy of ${tried} tried; last: ${last ?? 'unknown error'}); retry shortly`,
      retryAfterSeconds,
    );
  }
}

/** No node of the mesh has the model. */
export class ModelNotFoundError extends NotFoundError {
  override name = 'ModelNotFoundError';
  constructor(
    readonly model: string,
    message = `model '${model}' not found`,
  ) {
    super(message, { code: 'model_not_found' });
  }
}

/** Every node tried answered with an error of its own (no busy or unreachable one among them). */
export class AllFailedError extends UpstreamError {
  override name = 'AllFailedError';
  constructor(
    readonly model: string,
    last: string,
  ) {
    super(`no node could serve ${model}: ${last}`);
  }
}

/** The serving node failed mid-answer and no other node may continue the answer. */
export class AnswerInterruptedError extends UpstreamError {
  override name = 'AnswerInterruptedError';
  constructor(
    /** The node that failed. */
    readonly node: string,
    /** What it failed with. */
    detail: string,
    /** Why the answer could not move to another node. */
    why: string,
    options?: ErrorOptions,
  ) {
    super(`${node} failed mid-answer (${detail}) and ${why}`, options);
  }
}
