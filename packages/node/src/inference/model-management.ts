/**
 * Model management (Ollama's pull, delete, copy and create) on this node's Ollama or on a peer's
 * over MODEL_PROTOCOL. Every action yields Ollama's progress objects as Ollama streamed them and
 * fails with a BackendResponseError carrying Ollama's status and text, wherever it ran. Whoever
 * ran it refreshes its model list and card at once, so every node sees the change.
 */
import { FramedStream, MODEL_PROTOCOL, type ModelAction, type ModelRequestMessage } from '@allerac/protocol';
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { Backend, OllamaObject } from '../backend/backend.js';
import { BackendResponseError } from '../backend/errors.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { ModelPuller, ModelSource } from '../models/model-source.js';
import { PeerLostError } from './errors.js';

export type { ModelAction };

/**
 * How long a peer may stay silent during an action: a create that quantizes a large model says
 * nothing between its steps, and a client that leaves cancels the action anyway.
 */
export const MODEL_ACTION_IDLE_MS = 30 * 60_000;

/** The `allerac.node` value that aims a delete at every node of the home. */
export const EVERY_NODE = '*';

/** The node named in `allerac.node` is neither this node nor an online peer. */
export class UnknownNodeError extends NotFoundError {
  override name = 'UnknownNodeError';
  constructor(readonly node: string) {
    super(`no node named "${node}" is online in this home`, { code: 'node_not_found' });
  }
}

/** Where an action runs. */
export type ModelTarget = { kind: 'local'; name: string } | { kind: 'peer'; id: string; name: string };

/** What model management needs of the mesh; absent parts mean a mesh of one. */
export interface ModelMeshView {
  /** This node's peer id, once the mesh runs. */
  selfId(): string | undefined;
  /** The peers this node knows. */
  peers(): Array<{ id: string; name: string; status: 'online' | 'gone' }>;
  openStream(peerId: string, protocol: string, signal: AbortSignal): Promise<Stream>;
}

/** Injected dependencies. */
export interface ModelManagementComponents {
  backend: Backend;
  mesh: ModelMeshView;
  /** Called after every local action, successful or not: the model list may have changed. */
  modelsChanged(): void;
  logger: Logger;
  /** Pulls from a peer that holds the model (`allerac.source`); absent, every pull downloads. */
  puller?: ModelPuller;
}

/** Options of an action beside Ollama's body. */
export interface ModelActionOptions {
  /** Where a pull gets the model; `auto` when absent. */
  source?: ModelSource;
}

/** The outcome of a delete on every node: who deleted it, who failed and why. */
export interface DeleteEverywhereResult {
  deleted: string[];
  failed: Array<{ node: string; status: number; error: string }>;
}

/** Runs one action on this node's Ollama, yielding its progress objects. */
export async function* runLocalAction(
  backend: Backend,
  action: ModelAction,
  body: OllamaObject,
  signal: AbortSignal,
  pull?: { puller: ModelPuller | undefined; source: ModelSource | undefined },
): AsyncGenerator<OllamaObject> {
  switch (action) {
    case 'pull': {
      const model = String(body.model ?? body.name ?? '');
      const insecure = body.insecure === true;
      if (pull?.puller !== undefined)
        yield* pull.puller.pull(model, pull.source ?? 'auto', signal, { insecure });
      else yield* backend.pull(model, signal, { insecure });
      return;
    }
    case 'create':
      yield* backend.create(body, signal);
      return;
    case 'delete':
      await backend.delete(String(body.model ?? body.name ?? ''));
      return;
    case 'copy':
      await backend.copy(String(body.source ?? ''), String(body.destination ?? ''));
      return;
  }
}

/** Model management for the HTTP layer: resolves the target, runs there, reports the change. */
export class ModelManagement {
  private seq = 0;

  constructor(
    private readonly nodeName: () => string,
    private readonly components: ModelManagementComponents,
  ) {}

  /** The node `allerac.node` names: this one when absent, or an online peer by id or name. */
  resolve(node: string | null | undefined): ModelTarget {
    const self = this.nodeName();
    if (node === undefined || node === null || node === '') return { kind: 'local', name: self };
    if (node === EVERY_NODE) throw new InvalidInputError('allerac.node "*" is only for /api/delete');
    if (node === self || node === this.components.mesh.selfId()) return { kind: 'local', name: self };
    const online = this.components.mesh.peers().filter((peer) => peer.status === 'online');
    const peer = online.find((p) => p.id === node) ?? online.find((p) => p.name === node);
    if (peer === undefined) throw new UnknownNodeError(node);
    return { kind: 'peer', id: peer.id, name: peer.name };
  }

  /** Whether this node's Ollama holds a blob: blobs go to the Ollama that creates from them. */
  hasBlob(digest: string): Promise<boolean> {
    return this.components.backend.hasBlob(digest);
  }

  /** Uploads a blob to this node's Ollama; resolves with Ollama's status (201 or 200). */
  createBlob(digest: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<number> {
    return this.components.backend.createBlob(digest, body, signal);
  }

  /** Every node of the home that is up now: this one and the online peers. */
  everyNode(): ModelTarget[] {
    const peers = this.components.mesh.peers().filter((peer) => peer.status === 'online');
    return [
      { kind: 'local', name: this.nodeName() },
      ...peers.map((p): ModelTarget => ({ kind: 'peer', id: p.id, name: p.name })),
    ];
  }

  /** Runs `action` on `target`, yielding Ollama's progress objects; throws BackendResponseError. */
  run(
    target: ModelTarget,
    action: ModelAction,
    body: OllamaObject,
    signal: AbortSignal,
    options: ModelActionOptions = {},
  ): AsyncIterable<OllamaObject> {
    return target.kind === 'local'
      ? this.runLocal(action, body, signal, options)
      : this.runRemote(target, action, body, signal, options);
  }

  /** Runs `action` to its end and drops the progress. */
  async complete(
    target: ModelTarget,
    action: ModelAction,
    body: OllamaObject,
    signal: AbortSignal,
  ): Promise<void> {
    for await (const _ of this.run(target, action, body, signal));
  }

  /** Deletes `body`'s model on every node that is up, in parallel. */
  async deleteEverywhere(body: OllamaObject, signal: AbortSignal): Promise<DeleteEverywhereResult> {
    const targets = this.everyNode();
    const outcomes = await Promise.allSettled(
      targets.map((target) => this.complete(target, 'delete', body, signal)),
    );
    const result: DeleteEverywhereResult = { deleted: [], failed: [] };
    outcomes.forEach((outcome, i) => {
      const node = targets[i]!.name;
      if (outcome.status === 'fulfilled') result.deleted.push(node);
      else {
        const error = outcome.reason as Error;
        const status = error instanceof BackendResponseError ? error.status : 502;
        result.failed.push({ node, status, error: error.message });
      }
    });
    return result;
  }

  private async *runLocal(
    action: ModelAction,
    body: OllamaObject,
    signal: AbortSignal,
    options: ModelActionOptions,
  ): AsyncGenerator<OllamaObject> {
    try {
      const pull = { puller: this.components.puller, source: options.source };
      yield* runLocalAction(this.components.backend, action, body, signal, pull);
    } finally {
      this.components.modelsChanged();
    }
  }

  private async *runRemote(
    target: Extract<ModelTarget, { kind: 'peer' }>,
    action: ModelAction,
    body: OllamaObject,
    signal: AbortSignal,
    options: ModelActionOptions,
  ): AsyncGenerator<OllamaObject> {
    const request: ModelRequestMessage = {
      type: 'model-request',
      id: `m${++this.seq}`,
      action,
      body,
      ...(options.source !== undefined ? { source: options.source } : {}),
    };
    let framed: FramedStream;
    try {
      const stream = await this.components.mesh.openStream(target.id, MODEL_PROTOCOL, signal);
      framed = new FramedStream(stream, {
        protocol: MODEL_PROTOCOL,
        firstFrameTimeoutMs: MODEL_ACTION_IDLE_MS,
        idleTimeoutMs: MODEL_ACTION_IDLE_MS,
      });
      await framed.write(request, { signal });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new PeerLostError(`could not reach ${target.name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    let finished = false;
    try {
      for (;;) {
        let message: Awaited<ReturnType<FramedStream['read']>>;
        try {
          message = await framed.read({ signal });
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          throw new PeerLostError(`${target.name} broke off the ${action}: ${(error as Error).message}`, {
            cause: error,
          });
        }
        if (message?.type === 'model-progress' && message.id === request.id) yield message.progress;
        else if (message?.type === 'model-done' && message.id === request.id) {
          finished = true;
          return;
        } else if (message?.type === 'model-error' && message.id === request.id) {
          finished = true;
          throw new BackendResponseError(message.message, message.status);
        } else {
          throw new PeerLostError(
            `${target.name} ${message === undefined ? 'closed the stream' : `sent ${message.type}`} before the ${action} ended`,
          );
        }
      }
    } finally {
      // Closing early (the client left) resets the stream, which stops the action on the peer.
      if (finished) await framed.close().catch(() => framed.abort(new Error('close failed')));
      else framed.abort(new Error('cancelled by the caller'));
    }
  }
}
