import type { OllamaObject } from '../backend/backend.js';
import type { InferenceStream } from './gateway.js';

/** A generation read to its end by the node itself, with a view for a client that may leave. */
export interface DetachedStream {
  /** The same stream for the HTTP client; dropping it (returning its iterator) stops nothing. */
  readonly view: InferenceStream;
  /** Settles when the generation ends: `undefined` when it completed, else what cut it short. */
  readonly ended: Promise<unknown>;
}

/**
 * Reads `stream` to its end whatever the client does, handing each batch of chunks to `onChunks`
 * (which must not throw). The view replays the chunks to the client while it stays; a failure of the
 * generation is thrown into the view as the gateway threw it.
 */
export function detachStream(
  stream: InferenceStream,
  onChunks: (chunks: readonly OllamaObject[]) => void,
): DetachedStream {
  const queue: (readonly OllamaObject[])[] = [];
  let attached = true;
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;

  const ended = (async (): Promise<unknown> => {
    try {
      onChunks([stream.first]);
      let done = stream.first.done === true;
      if (!done) {
        for await (const batch of stream.rest) {
          onChunks(batch);
          if (attached) queue.push(batch);
          wake?.();
          if (batch.some((chunk) => chunk.done === true)) {
            done = true;
            break;
          }
        }
      }
      if (!done) failure = new Error('the answer stream ended before it was done');
    } catch (error) {
      failure = error;
    } finally {
      finished = true;
      wake?.();
    }
    return failure;
  })();

  async function* rest(): AsyncGenerator<readonly OllamaObject[]> {
    try {
      for (;;) {
        const batch = queue.shift();
        if (batch !== undefined) {
          yield batch;
          if (batch.some((chunk) => chunk.done === true)) return;
          continue;
        }
        if (finished) {
          if (failure !== undefined) throw failure;
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      // The client left (or had it all): the generation runs on without buffering for it.
      attached = false;
      queue.length = 0;
    }
  }
  const iterator = rest();

  return {
    view: {
      firstChoice: stream.firstChoice,
      first: stream.first,
      rest: { [Symbol.asyncIterator]: () => iterator },
      answer: stream.answer,
      servedBy: () => stream.servedBy(),
      preparedFor: () => stream.preparedFor(),
    },
    ended,
  };
}
