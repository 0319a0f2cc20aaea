import {
  FramedStream,
  INFER_PROTOCOL,
  type InferErrorCode,
  type InferErrorMessage,
  type InferRequestMessage,
  type InferStats,
} from '@allerac/protocol';
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { Backend, OllamaObject } from '../backend/backend.js';
import { BackendResponseError, BackendUnavailableError } from '../backend/errors.js';
import { type LocalLoad, NodeBusyError } from './local-load.js';

/** The most time a peer may ask for; a longer deadline is cut to this. */
export const MAX_REMOTE_DEADLINE_MS = 30 * 60_000;

/** Raised when a peer's deadline passes. */
class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** What the inference service needs. */
export interface InferServiceComponents {
  backend: Backend;
  load: LocalLoad;
  logger: Logger;
}

/**
 * Sends one chunk of an answer; returns a promise only when the next one must wait (for credit,
 * for the stream to drain): most chunks then cost no promise and no microtask turn.
 */
export type ChunkSink = (chunk: OllamaObject) => Promise<void> | undefined;

/**
 * Runs one peer's request on this node's backend, handing each chunk to `send`, and returns
 * Ollama's final chunk. `show` and `ps` are answered at once without a slot; anything else holds
 * a local slot while it runs (at most the peer's share, LocalLoad's, or NodeBusyError). Throws
 * what the backend threw, or the signal's reason.
 */
export async function runInference(
  components: InferServiceComponents,
  request: InferRequestMessage,
  peerId: string,
  signal: AbortSignal,
  send: ChunkSink,
): Promise<OllamaObject | undefined> {
  if (request.api === 'show' || request.api === 'ps') {
    // Metadata, not inference: answered at once, without taking a slot.
    const chunk =
      request.api === 'show'
        ? await components.backend.show({ ...request.body, model: request.model })
        : { models: await components.backend.ps() };
    await send(chunk);
    return undefined;
  }
  // The peer holds at most its share of the slots and the queue (LocalLoad's peer share).
  const release = await components.load.acquire(signal, peerId);
  try {
    if (request.api === 'embed') {
      await send(await components.backend.embed(request.body, signal));
      return undefined;
    }
    const body = { ...request.body, model: request.model };
    const source =
      request.api === 'chat'
        ? components.backend.chat(body, signal)
        : components.backend.generate(body, signal);
    let last: OllamaObject | undefined;
    const started = performance.now();
    let ttftMs: number | undefined;
    for await (const batch of source) {
      ttftMs ??= performance.now() - started;
      for (const chunk of batch) {
        last = chunk;
        const waiting = send(chunk);
        if (waiting !== undefined) await waiting;
      }
    }
    components.load.record(request.model, tokensPerSecondOf(last), ttftMs);
    return last;
  } finally {
    release();
  }
}

/** Aborts `controller` with a DeadlineError once the request's deadline (capped) has passed. */
export function startDeadline(request: InferRequestMessage, controller: AbortController): NodeJS.Timeout {
  return setTimeout(
    () => controller.abort(new DeadlineError(`deadline of ${request.deadlineMs} ms passed`)),
    Math.min(Math.max(request.deadlineMs, 1), MAX_REMOTE_DEADLINE_MS),
  );
}

/** True when the generation stopped because the caller cancelled or went away, not a deadline. */
export function wasCancelled(signal: AbortSignal): boolean {
  return signal.aborted && !(signal.reason instanceof DeadlineError);
}

/** The `infer-error` that tells the caller why its request failed. */
export function inferErrorOf(id: string, error: unknown, signal: AbortSignal): InferErrorMessage {
  const cause = signal.aborted ? signal.reason : error;
  const [code, retryable] = classify(cause);
  // Ollama's own refusal travels with its status, so the caller's client sees what it said.
  const status = cause instanceof BackendResponseError ? ollamaStatus(cause.status) : undefined;
  return {
    type: 'infer-error',
    id,
    code,
    message: (error as Error).message,
    retryable,
    ...(status !== undefined ? { status } : {}),
  };
}

/**
 * Serves INFER_PROTOCOL (version 1, one stream per request), kept for one release so that older
 * peers can still ask this node: runs a peer's inference on this node's backend and streams the
 * chunks back. It answers `busy` when the queue is full or the peer already holds its share of
 * the slots and the queue, and stops generating when the caller cancels or goes away.
 */
export function createInferHandler(components: InferServiceComponents) {
  return async (stream: Stream, peerId: string): Promise<void> => {
    const framed = new FramedStream(stream, { protocol: INFER_PROTOCOL });
    let request: InferRequestMessage;
    try {
      const first = await framed.read();
      if (first?.type !== 'infer-request')
        throw new Error(`expected infer-request, got ${first?.type ?? 'end of stream'}`);
      request = first;
    } catch (error) {
      components.logger.warn({ peer: peerId, err: error }, 'bad inference request from peer');
      framed.abort(error as Error);
      return;
    }
    const controller = new AbortController();
    const deadline = startDeadline(request, controller);
    // Watch the rest of the stream: infer-cancel, or the caller vanishing, stops the generation.
    void (async () => {
      try {
        for (;;) {
          const message = await framed.read({ signal: controller.signal });
          if (message === undefined) return;
          if (message.type === 'infer-cancel' && message.id === request.id) {
            controller.abort(new Error('cancelled by the caller'));
            return;
          }
        }
      } catch {
        controller.abort(new Error('the caller went away'));
      }
    })();
    try {
      const final = await runInference(components, request, peerId, controller.signal, (chunk) =>
        framed.write({ type: 'infer-chunk', id: request.id, chunk }, { signal: controller.signal }),
      );
      await framed.write({ type: 'infer-done', id: request.id, stats: statsOf(final) });
      await framed.close();
    } catch (error) {
      if (wasCancelled(controller.signal)) {
        framed.abort(new Error('cancelled'));
        return;
      }
      await framed
        .write(inferErrorOf(request.id, error, controller.signal))
        .then(() => framed.close())
        .catch(() => framed.abort(error as Error));
    } finally {
      clearTimeout(deadline);
      controller.abort();
    }
  };
}

function classify(error: unknown): [InferErrorCode, boolean] {
  if (error instanceof NodeBusyError) return ['busy', true];
  if (error instanceof DeadlineError) return ['deadline', true];
  if (error instanceof BackendUnavailableError) return ['backend-unavailable', true];
  if (error instanceof BackendResponseError) {
    if (error.status === 404) return ['model-not-found', true];
    if (error.status === 503) return ['busy', true];
    if (error.status >= 400 && error.status < 500) return ['bad-request', false];
  }
  return ['internal', true];
}

/** An HTTP error status as the wire carries it (400 to 599), or none. */
function ollamaStatus(status: number): number | undefined {
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : undefined;
}

/** Tokens per second from Ollama's final chunk (eval_count over eval_duration in ns). */
export function tokensPerSecondOf(final: OllamaObject | undefined): number | undefined {
  const count = final?.eval_count;
  const duration = final?.eval_duration;
  if (typeof count !== 'number' || typeof duration !== 'number' || duration <= 0) return undefined;
  return count / (duration / 1e9);
}

/** Version 1's `infer-done.stats`, from Ollama's final chunk. */
export function statsOf(final: OllamaObject | undefined): InferStats {
  const pick = (key: string) => (typeof final?.[key] === 'number' ? (final[key] as number) : undefined);
  const stats: InferStats = {};
  const entries: Array<[keyof InferStats, string]> = [
    ['totalDurationNs', 'total_duration'],
    ['loadDurationNs', 'load_duration'],
    ['promptEvalCount', 'prompt_eval_count'],
    ['promptEvalDurationNs', 'prompt_eval_duration'],
    ['evalCount', 'eval_count'],
    ['evalDurationNs', 'eval_duration'],
  ];
  for (const [to, from] of entries) {
    const value = pick(from);
    if (value !== undefined) stats[to] = value;
  }
  return stats;
}
