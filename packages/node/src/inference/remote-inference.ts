import {
  FramedStream,
  FrameTooLargeError,
  INFER_PROTOCOL,
  type InferRequestMessage,
  type InferStats,
} from '@allerac/protocol';
import type { OllamaObject } from '../backend/backend.js';
import type { Mesh } from '../mesh/index.js';
import { PeerLostError, RemoteInferenceError, RequestTooLargeError } from './errors.js';

/** Deadlines of a remote inference. */
export interface RemoteDeadlines {
  /** Until the first chunk: covers queueing and model loading on the peer. */
  firstChunkMs: number;
  /** Longest silence between chunks before the peer counts as stalled. */
  idleMs: number;
}

/**
 * Runs an inference on a peer over INFER_PROTOCOL and yields its Ollama chunks. Throws
 * RemoteInferenceError for a typed refusal and PeerLostError when the peer goes away; aborting
 * `signal` sends `infer-cancel` so the peer stops generating.
 */
export async function* remoteInference(
  mesh: Mesh,
  peerId: string,
  request: InferRequestMessage,
  signal: AbortSignal,
  deadlines: RemoteDeadlines,
): AsyncGenerator<OllamaObject, InferStats | undefined> {
  let framed: FramedStream | undefined;
  try {
    const stream = await mesh.openStream(peerId, INFER_PROTOCOL, signal);
    framed = new FramedStream(stream, {
      protocol: INFER_PROTOCOL,
      firstFrameTimeoutMs: deadlines.firstChunkMs,
      idleTimeoutMs: deadlines.idleMs,
    });
    await framed.write(request, { signal });
  } catch (error) {
    framed?.abort(error as Error);
    if (signal.aborted) throw signal.reason;
    if (error instanceof FrameTooLargeError) {
      throw new RequestTooLargeError(`request is too large to forward to a peer: ${error.message}`, {
        cause: error,
      });
    }
    throw new PeerLostError(`could not reach peer ${peerId}: ${(error as Error).message}`, { cause: error });
  }
  const opened = framed;
  let finished = false;
  const onAbort = () => {
    opened
      .write({ type: 'infer-cancel', id: request.id })
      .catch(() => {})
      .finally(() => opened.abort(new Error('cancelled by the caller')));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      let message: Awaited<ReturnType<FramedStream['read']>>;
      try {
        message = await opened.read({ signal });
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new PeerLostError(`peer ${peerId} broke off the answer: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (message === undefined)
        throw new PeerLostError(`peer ${peerId} closed the stream before the answer was done`);
      if (message.type === 'infer-chunk' && message.id === request.id) {
        yield message.chunk;
      } else if (message.type === 'infer-done' && message.id === request.id) {
        finished = true;
        return message.stats;
      } else if (message.type === 'infer-error' && message.id === request.id) {
        finished = true;
        throw new RemoteInferenceError(message.code, message.message, message.retryable, message.status);
      } else {
        throw new PeerLostError(`peer ${peerId} sent an unexpected ${message.type} message`);
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (finished) await opened.close().catch(() => opened.abort(new Error('close failed')));
    else if (!signal.aborted) onAbort();
  }
}
