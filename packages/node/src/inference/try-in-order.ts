/**
 * The one retry loop of the gateway, shared by generations and embeddings: candidates are tried
 * in ranked order until one answers, and how they failed decides the error when none did.
 */
import type { Placement } from '@allerac/router';
import { BackendResponseError, BackendUnavailableError } from '../backend/errors.js';
import { DomainError } from '../errors.js';
import {
  AllBusyError,
  AllFailedError,
  NoEligibleNodeError,
  PeerLostError,
  PeerStreamLimitError,
  RemoteInferenceError,
  RequestTooLargeError,
} from './errors.js';
import { NodeBusyError } from './local-load.js';

/** One pass over the candidates of a request (or of a continuation of its answer). */
export interface TryInOrderOptions<T> {
  /** The model asked for, for the error when none answered. */
  model: string;
  /** The candidates, best first. */
  candidates: readonly Placement[];
  /** Nodes already tried for this answer; each is tried once, and added here when it is. */
  tried: Set<string>;
  /** How many candidates failed earlier in this answer. */
  failovers: number;
  /** Aborted by the caller: the loop stops with its reason. */
  signal: AbortSignal;
  /** Whether a placement is this node, which takes requests too large for a peer's frame. */
  isLocal: (placement: Placement) => boolean;
  /** Starts one attempt; resolves once it answered (its first chunk), rejects before that. */
  attempt: (placement: Placement) => Promise<T>;
  /** Told of each failure a next candidate may overcome, with whether it was only busy. */
  onFailure?: (placement: Placement, error: unknown, busy: boolean) => void;
}

/** What answered, and after how many failures in all. */
export interface Answered<T> {
  value: T;
  placement: Placement;
  failovers: number;
}

/**
 * Tries the candidates in order. Busy and other retryable failures move to the next one; an
 * error that every node would give (bad input, no such model) is thrown at once; a request too
 * large for an inference frame goes on only to this node. Throws a typed error when none answered.
 */
export async function tryInOrder<T>(options: TryInOrderOptions<T>): Promise<Answered<T>> {
  const { candidates, tried, signal } = options;
  let failovers = options.failovers;
  let lastError: unknown;
  let tooLarge: RequestTooLargeError | undefined;
  const failures = new FailureTally();
  for (const placement of candidates) {
    if (tried.has(placement.nodeId)) continue;
    // No peer can take what does not fit one frame; this node still can.
    if (tooLarge !== undefined && !options.isLocal(placement)) continue;
    signal.throwIfAborted();
    tried.add(placement.nodeId);
    try {
      const value = await options.attempt(placement);
      return { value, placement, failovers };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof RequestTooLargeError) {
        tooLarge = error;
        continue;
      }
      if (!isRetryable(error)) throw error;
      failures.add(error);
      failovers += 1;
      options.onFailure?.(placement, error, isBusy(error));
      lastError = error;
    }
  }
  if (tooLarge !== undefined && failures.attempts === 0) throw tooLarge;
  throw noneAnswered(options.model, candidates, lastError, failures);
}

/** Whether a failure is load (the ranking weighs it already), not ill health. */
export function isBusy(error: unknown): boolean {
  return (
    error instanceof NodeBusyError ||
    error instanceof PeerStreamLimitError ||
    (error instanceof RemoteInferenceError && error.code === 'busy') ||
    (error instanceof BackendResponseError && error.status === 503)
  );
}

/** Whether another candidate may succeed where this one failed. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof RemoteInferenceError) return error.retryable;
  if (error instanceof BackendResponseError) return error.status === 404 || error.status >= 500;
  // The gateway's own verdicts (bad input, no such model) are the same on every node.
  if (error instanceof DomainError) return false;
  return true;
}

/**
 * Whether a failure before the first token will likely pass: the node was busy, or could not be
 * reached or lost the stream (it is then no longer a candidate, or it comes back). Anything else
 * is a node that answered with an error of its own.
 */
function isTransient(error: unknown): boolean {
  if (isBusy(error) || error instanceof PeerLostError || error instanceof BackendUnavailableError)
    return true;
  if (error instanceof RemoteInferenceError) return error.code !== 'internal';
  return error instanceof BackendResponseError && error.status === 404;
}

/** How the candidates of one pass failed before their first token. */
class FailureTally {
  attempts = 0;
  busy = 0;
  transient = 0;

  add(error: unknown): void {
    this.attempts += 1;
    if (isBusy(error)) this.busy += 1;
    if (isTransient(error)) this.transient += 1;
  }
}

/**
 * The error when no candidate answered. A busy mesh is a 503 with Retry-After, also when some
 * node failed otherwise (one busy and one unreachable is still a mesh to retry shortly); a 502
 * only when every node tried answered with an error of its own.
 */
function noneAnswered(
  model: string,
  candidates: readonly Placement[],
  lastError: unknown,
  failures: FailureTally,
): Error {
  if (candidates.length === 0) return new NoEligibleNodeError(model);
  const last = (lastError as Error | undefined)?.message ?? 'unknown error';
  if (failures.attempts > 0 && failures.busy === failures.attempts) {
    return new AllBusyError(model, failures.attempts, failures.busy);
  }
  // A single node's own Ollama is named as such: the message says which URL to check.
  if (failures.attempts === 1 && lastError instanceof BackendUnavailableError) return lastError;
  if (failures.transient > 0) return new AllBusyError(model, failures.attempts, failures.busy, last);
  // Ollama's own answer, local or a peer's, reaches the client with its status and message.
  if (
    lastError instanceof BackendUnavailableError ||
    lastError instanceof BackendResponseError ||
    (lastError instanceof RemoteInferenceError && lastError.status !== undefined)
  )
    return lastError;
  return new AllFailedError(model, last);
}
