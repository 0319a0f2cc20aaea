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
