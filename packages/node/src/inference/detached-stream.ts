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
 * Reads `stream` to its end whatever the client does, handing every chunk to `onChunk` (which
 * must not throw). The view replays the chunks to the client while it stays; a failure of the
 * generation is thrown into the view as the gateway threw it.
 */
export function detachStream(
  stream: InferenceStream,
  onChunk: (chunk: OllamaObject) => void,
): DetachedStream {
  const queue: OllamaObject[] = [];
  let attached = true;
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;

  const ended = (async (): Promise<unknown> => {
    try {
      onChunk(stream.first);
      let done = stream.first.done === true;
      if (!done) {
        for await (const chunk of stream.rest) {
          onChunk(chunk);
          if (attached) queue.push(chunk);
          wake?.();
          if (chunk.done === true) {
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

  async function* rest(): AsyncGenerator<OllamaObject> {
    try {
      for (;;) {
        const chunk = queue.shift();
        if (chunk !== undefined) {
          yield chunk;
          if (chunk.done === true) return;
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
