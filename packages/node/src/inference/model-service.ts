import { FramedStream, MODEL_PROTOCOL, type ModelRequestMessage } from '@allerac/protocol';
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { BackendResponseError, BackendUnavailableError } from '../backend/errors.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { ModelPuller } from '../models/model-source.js';
import { runLocalAction } from './model-management.js';

/** What the model service needs. */
export interface ModelServiceComponents {
  backend: Backend;
  /** Whether `peerId` is a current peer of this home (online, not removed). */
  isCurrentPeer(peerId: string): boolean;
  /** Called after every action: the model list may have changed, so the card must go out now. */
  modelsChanged(): void;
  logger: Logger;
  /** Pulls from a peer that holds the model when the request's `source` allows it. */
  puller?: ModelPuller;
}

/**
 * Serves MODEL_PROTOCOL: runs a peer's model action on this node's Ollama and streams Ollama's
 * progress back. The entry node has checked that an admin asked; this side accepts the action
 * only from a current peer, one at a time per peer, and stops it when the caller goes away.
 */
export function createModelHandler(components: ModelServiceComponents) {
  const running = new Set<string>();
  return async (stream: Stream, peerId: string): Promise<void> => {
    const framed = new FramedStream(stream, { protocol: MODEL_PROTOCOL });
    let request: ModelRequestMessage;
    try {
      const first = await framed.read();
      if (first?.type !== 'model-request')
        throw new Error(`expected model-request, got ${first?.type ?? 'end of stream'}`);
      request = first;
    } catch (error) {
      components.logger.warn({ peer: peerId, err: error }, 'bad model request from peer');
      framed.abort(error as Error);
      return;
    }
    const refuse = async (status: number, message: string) => {
      await framed
        .write({ type: 'model-error', id: request.id, status, message })
        .then(() => framed.close())
        .catch(() => framed.abort(new Error(message)));
    };
    if (!components.isCurrentPeer(peerId)) {
      components.logger.warn(
        { peer: peerId, action: request.action },
        'model action from a non-peer refused',
      );
      return refuse(403, 'model management is only for current peers of this home');
    }
    if (running.has(peerId)) return refuse(429, 'this peer already has a model action running here');
    running.add(peerId);
    const controller = new AbortController();
    // The caller resetting or closing the stream stops the action (a pull left half-done is
    // resumed by Ollama's next pull, never listed).
    void (async () => {
      try {
        while ((await framed.read({ signal: controller.signal })) !== undefined);
      } catch {
        // read failed: the caller went away
      }
      controller.abort(new Error('the caller went away'));
    })();
    components.logger.info({ peer: peerId, action: request.action }, 'model action for a peer');
    try {
      for await (const progress of runLocalAction(
        components.backend,
        request.action,
        request.body,
        controller.signal,
        { puller: components.puller, source: request.source },
      )) {
        await framed.write(
          { type: 'model-progress', id: request.id, progress },
          { signal: controller.signal },
        );
      }
      components.modelsChanged();
      await framed.write({ type: 'model-done', id: request.id });
      await framed.close();
    } catch (error) {
      components.modelsChanged();
      if (controller.signal.aborted) {
        framed.abort(new Error('cancelled'));
        return;
      }
      const status =
        error instanceof BackendResponseError
          ? error.status
          : error instanceof BackendUnavailableError
            ? 503
            : error instanceof NotFoundError
              ? 404
              : error instanceof InvalidInputError
                ? 400
                : 502;
      await refuse(status, (error as Error).message.slice(0, 4096));
    } finally {
      running.delete(peerId);
      controller.abort();
    }
  };
}
