import {
  FramedStream,
  INFER_PROTOCOL,
  type InferErrorCode,
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
 * Serves INFER_PROTOCOL: runs a peer's inference on this node's backend and streams the chunks
 * back. It holds a local slot while generating, answers `busy` when the queue is full or the peer
 * already holds its share of the slots and the queue (so the caller tries its next candidate),
 * and stops generating when the caller cancels or goes away.
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
    const deadline = setTimeout(
      () => controller.abort(new DeadlineError(`deadline of ${request.deadlineMs} ms passed`)),
      Math.min(Math.max(request.deadlineMs, 1), MAX_REMOTE_DEADLINE_MS),
    );
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
    let release: (() => void) | undefined;
    try {
      if (request.api === 'show' || request.api === 'ps') {
        // Metadata, not inference: answered at once, without taking a slot.
        const chunk =
          request.api === 'show'
            ? await components.backend.show({ ...request.body, model: request.model })
            : { models: await components.backend.ps() };
        await framed.write({ type: 'infer-chunk', id: request.id, chunk });
        await framed.write({ type: 'infer-done', id: request.id, stats: {} });
        await framed.close();
        return;
      }
      // The peer holds at most its share of the slots and the queue (LocalLoad's peer share).
      release = await components.load.acquire(controller.signal, peerId);
      if (request.api === 'embed') {
        const response = await components.backend.embed(request.body, controller.signal);
        await framed.write({ type: 'infer-chunk', id: request.id, chunk: response });
        await framed.write({ type: 'infer-done', id: request.id, stats: {} });
      } else {
        const body = { ...request.body, model: request.model };
        const source =
          request.api === 'chat'
            ? components.backend.chat(body, controller.signal)
            : components.backend.generate(body, controller.signal);
        let last: OllamaObject | undefined;
        const started = performance.now();
        let ttftMs: number | undefined;
        for await (const chunk of source) {
          ttftMs ??= performance.now() - started;
          last = chunk;
          await framed.write({ type: 'infer-chunk', id: request.id, chunk }, { signal: controller.signal });
        }
        components.load.record(request.model, tokensPerSecondOf(last), ttftMs);
        await framed.write({ type: 'infer-done', id: request.id, stats: statsOf(last) });
      }
      await framed.close();
    } catch (error) {
      if (controller.signal.aborted && !(controller.signal.reason instanceof DeadlineError)) {
        framed.abort(new Error('cancelled'));
        return;
      }
      const cause = controller.signal.aborted ? controller.signal.reason : error;
      const [code, retryable] = classify(cause);
      // Ollama's own refusal travels with its status, so the caller's client sees what it said.
      const status = cause instanceof BackendResponseError ? ollamaStatus(cause.status) : undefined;
      await framed
        .write({
          type: 'infer-error',
          id: request.id,
          code,
          message: (error as Error).message,
          retryable,
          ...(status !== undefined ? { status } : {}),
        })
        .then(() => framed.close())
        .catch(() => framed.abort(error as Error));
    } finally {
      clearTimeout(deadline);
      release?.();
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

function statsOf(final: OllamaObject | undefined): InferStats {
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
