/**
 * The responder's end of INFER_CHANNEL_PROTOCOL: one stream from a peer carries all its requests,
 * each run on its own (runInference) with its own cancel, deadline and credit window.
 */
import {
  INFER_CHUNK_WINDOW,
  type InferRequestMessage,
  MAX_INFER_IN_FLIGHT,
  type Message,
  ProtocolError,
  UnexpectedMessageError,
} from '@allerac/protocol';
import type { Stream } from '@libp2p/interface';
import type { OllamaObject } from '../backend/backend.js';
import { chunkFrame, FrameWriter, jsonFrame, readFrames } from './infer-frames.js';
import {
  type InferServiceComponents,
  inferErrorOf,
  runInference,
  startDeadline,
  wasCancelled,
} from './infer-service.js';

/** What a responder reads on a channel. */
const INBOUND_TYPES = ['infer-request', 'infer-cancel', 'infer-credit'] as const;

/** One request being answered. */
interface Serving {
  controller: AbortController;
  /** Chunks it may still send before more credit comes. */
  credit: number;
  /** Wakes the sender waiting for credit. */
  wake: (() => void) | undefined;
}

/**
 * Serves INFER_CHANNEL_PROTOCOL. A request whose id is already running, credit past the window,
 * or any bad frame is a violation: the channel is reset and every generation on it stops. A
 * request past MAX_INFER_IN_FLIGHT is answered `busy`. Cancels and credits for ids not running
 * are ignored, since they may cross the request's last frame.
 */
export function createInferChannelHandler(components: InferServiceComponents) {
  return (stream: Stream, peerId: string): void => {
    const serving = new Map<string, Serving>();
    let closed = false;
    // A stream that cannot be written is of no further use: reset it, which ends every request.
    const writer = new FrameWriter(stream, (error) => reader.fail(error));
    const send = (frame: Uint8Array): void => {
      if (!closed) writer.write(frame);
    };
    const reader = readFrames(stream, INBOUND_TYPES, {
      message: (message) => onMessage(message),
      end: (error) => {
        closed = true;
        if (error instanceof ProtocolError) {
          components.logger.warn({ peer: peerId, err: error }, 'inference channel from peer cut off');
        }
        for (const s of serving.values()) s.controller.abort(new Error('the caller went away'));
      },
    });

    const onMessage = (message: Message): void => {
      if (message.type === 'infer-request') {
        if (serving.has(message.id))
          throw new UnexpectedMessageError(`request id ${message.id.slice(0, 128)} is already running`);
        if (serving.size >= MAX_INFER_IN_FLIGHT) {
          send(
            jsonFrame(
              JSON.stringify({
                type: 'infer-error',
                id: message.id,
                code: 'busy',
                message: `${MAX_INFER_IN_FLIGHT} requests from this peer are running`,
                retryable: true,
              }),
            ),
          );
          return;
        }
        const state: Serving = {
          controller: new AbortController(),
          credit: INFER_CHUNK_WINDOW,
          wake: undefined,
        };
        serving.set(message.id, state);
        void serve(message, state).finally(() => serving.delete(message.id));
      } else if (message.type === 'infer-cancel') {
        serving.get(message.id)?.controller.abort(new Error('cancelled by the caller'));
      } else if (message.type === 'infer-credit') {
        const state = serving.get(message.id);
        if (state === undefined) return;
        state.credit += message.chunks;
        if (state.credit > INFER_CHUNK_WINDOW)
          throw new UnexpectedMessageError(`credit past the window of ${INFER_CHUNK_WINDOW} chunks`);
        state.wake?.();
      }
    };

    const serve = async (request: InferRequestMessage, state: Serving): Promise<void> => {
      const { signal } = state.controller;
      signal.addEventListener('abort', () => state.wake?.(), { once: true });
      const deadline = startDeadline(request, state.controller);
      const idJson = JSON.stringify(request.id);
      const waitForCredit = async (chunk: OllamaObject): Promise<void> => {
        while (state.credit === 0) {
          signal.throwIfAborted();
          await new Promise<void>((resolve) => {
            state.wake = resolve;
          });
          state.wake = undefined;
        }
        await sendChunk(chunk);
      };
      // Synchronous while there is credit and room: a promise per chunk cost more than its frame.
      const sendChunk = (chunk: OllamaObject): Promise<void> | undefined => {
        if (state.credit === 0) return waitForCredit(chunk);
        signal.throwIfAborted();
        state.credit -= 1;
        send(chunkFrame(idJson, chunk));
        return writer.needsDrain ? writer.drained(signal) : undefined;
      };
      try {
        await runInference(components, request, peerId, signal, sendChunk);
        send(jsonFrame(`{"type":"infer-done","id":${idJson}}`));
      } catch (error) {
        if (closed) return;
        // Every request ends with one closing frame, a cancelled one too, so the caller can forget its id.
        const message = wasCancelled(signal)
          ? {
              type: 'infer-error' as const,
              id: request.id,
              code: 'cancelled' as const,
              message: 'cancelled',
              retryable: false,
            }
          : inferErrorOf(request.id, error, signal);
        send(jsonFrame(JSON.stringify(message)));
      } finally {
        clearTimeout(deadline);
        state.controller.abort();
      }
    };
  };
}
