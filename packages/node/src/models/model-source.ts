/**
 * Where a pull gets its model (`allerac.source`): `peer` copies it from a node of the home that
 * holds it, `internet` downloads it from its registry, and `auto` (the default) copies when a peer
 * holds it and downloads otherwise.
 */

import type { Logger } from 'pino';
import type { Backend, OllamaObject } from '../backend/backend.js';
import { NotFoundError } from '../errors.js';
import { parseModelRef, shortModelName } from './model-ref.js';
import { type OpenStream, requestFromPeer } from './models-client.js';
import { copyFromPeer } from './peer-copy.js';
import type { TransferTable } from './transfers.js';

/** The sources a pull may name. */
export const MODEL_SOURCES = ['internet', 'peer', 'auto'] as const;
export type ModelSource = (typeof MODEL_SOURCES)[number];

/** `source: peer` and no online peer holds the model. */
export class NoPeerHoldsModelError extends NotFoundError {
  override name = 'NoPeerHoldsModelError';
  constructor(
    readonly model: string,
    readonly refusals: string[] = [],
  ) {
    const why = refusals.length > 0 ? ` that can share it (${refusals.join('; ')})` : '';
    super(`no online node of this home holds "${model}"${why}`, { code: 'model_not_on_peers' });
  }
}

/** A peer that may hold a model; `addresses` are the remote multiaddrs of its connections. */
export interface Holder {
  id: string;
  name: string;
  addresses?: readonly string[];
}

/** What the puller reads of the mesh: online peers with the models their cards list. */
export interface ModelHolders {
  peers(): Array<Holder & { status: 'online' | 'gone'; models: string[] }>;
}

/** Injected dependencies of the puller. */
export interface ModelPullerComponents {
  backend: Pick<Backend, 'pull' | 'copy' | 'delete'>;
  holders: ModelHolders;
  open: OpenStream;
  transfers: TransferTable;
  logger: Logger;
}

/** Pulls from a peer or the internet, as `source` says. */
export class ModelPuller {
  constructor(private readonly components: ModelPullerComponents) {}

  /** The transfers for the UI. */
  get transfers(): TransferTable {
    return this.components.transfers;
  }

  /** The online peers whose cards list `model`, by its short name. */
  holders(model: string): Holder[] {
    const wanted = shortModelName(parseModelRef(model));
    const same = (name: string) => {
      try {
        return shortModelName(parseModelRef(name)) === wanted;
      } catch {
        return false;
      }
    };
    return this.components.holders
      .peers()
      .filter((peer) => peer.status === 'online' && peer.models.some(same));
  }

  /**
   * The first holder that serves the manifest: a card says a peer's Ollama lists the model, not
   * that the peer can read its models directory. Undefined with the refusals when none can.
   */
  async reachableHolder(
    model: string,
    signal: AbortSignal,
  ): Promise<{ holder?: Holder; refusals: string[] }> {
    const ref = parseModelRef(model);
    const refusals: string[] = [];
    for (const peer of this.holders(model)) {
      try {
        const get = { type: 'models-get', kind: 'manifest', ...ref, head: true } as const;
        const { reply, body } = await requestFromPeer(this.components.open, peer.id, get, signal);
        for await (const _ of body);
        if (reply.status === 200) return { holder: peer, refusals };
        refusals.push(`${peer.name}: ${reply.error ?? `status ${reply.status}`}`);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        refusals.push(`${peer.name}: ${(error as Error).message}`);
      }
    }
    return { refusals };
  }

  /** Yields Ollama's pull progress objects from wherever `source` leads. */
  async *pull(
    model: string,
    source: ModelSource,
    signal: AbortSignal,
    options: { insecure?: boolean } = {},
  ): AsyncGenerator<OllamaObject> {
    const { holder, refusals } =
      source === 'internet' ? { holder: undefined, refusals: [] } : await this.reachableHolder(model, signal);
    if (holder === undefined) {
      if (source === 'peer') throw new NoPeerHoldsModelError(model, refusals);
      if (refusals.length > 0)
        this.components.logger.info({ model, refusals }, 'no peer can share it: pulling from the internet');
      yield* this.components.backend.pull(model, signal, options);
      return;
    }
    yield* copyFromPeer(this.components, model, holder, signal);
  }
}
