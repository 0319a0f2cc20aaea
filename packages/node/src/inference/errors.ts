import type { InferErrorCode } from '@allerac/protocol';

/** A peer answered an inference request with a typed error. */
export class RemoteInferenceError extends Error {
  override name = 'RemoteInferenceError';
  constructor(
    readonly code: InferErrorCode,
    message: string,
    /** Whether another candidate may succeed with the same request. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The connection to a peer broke, or its stream ended before the answer was done. */
export class PeerLostError extends Error {
  override name = 'PeerLostError';
}
