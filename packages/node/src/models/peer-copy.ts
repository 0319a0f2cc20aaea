/**
 * Copies a model from a peer with Ollama's own puller: a loopback registry forwards to the
 * holder, this node's Ollama pulls `127.0.0.1:<port>/<token>/<model>:<tag>` with `insecure`
 * (it checks every blob's sha256 and writes the manifest only after), then copies it to its
 * usual name and drops the temporary one. A cut-off copy leaves only Ollama's partial blobs,
 * which the next pull resumes; no model is listed before it is whole.
 */
import type { Logger } from 'pino';
import type { Backend, OllamaObject } from '../backend/backend.js';
import { laneHostOf } from './bulk-lane-client.js';
import { parseModelRef, shortModelName } from './model-ref.js';
import type { OpenStream } from './models-client.js';
import { PeerRegistry } from './peer-registry.js';
import type { TransferTable } from './transfers.js';

/** What a copy needs. */
export interface PeerCopyComponents {
  backend: Pick<Backend, 'pull' | 'copy' | 'delete'>;
  open: OpenStream;
  transfers: TransferTable;
  logger: Logger;
}

/**
 * Copies `model` from the peer `from`, yielding Ollama's pull progress; throws what Ollama
 * reported. With the remote `addresses` of the mesh connection to it, blob ranges go over the
 * holder's bulk lane when it offers one.
 */
export async function* copyFromPeer(
  components: PeerCopyComponents,
  model: string,
  from: { id: string; name: string; addresses?: readonly string[] },
  signal: AbortSignal,
): AsyncGenerator<OllamaObject> {
  const ref = parseModelRef(model);
  const usual = shortModelName(ref);
  const { backend, logger } = components;
  const transfer = components.transfers.begin({ model: usual, node: from.name, source: 'peer' });
  const laneHost = laneHostOf(from.addresses ?? []);
  const registry = await PeerRegistry.start({
    peerId: from.id,
    sourceHost: ref.host,
    model: { namespace: ref.namespace, model: ref.model, tag: ref.tag },
    open: components.open,
    logger,
    ...(laneHost !== undefined ? { laneHost } : {}),
  });
  const temporary = registry.modelName;
  logger.info({ model: usual, from: from.name, via: registry.host }, 'copying a model from a peer');
  let pulled = false;
  const dropTemporary = async () => {
    if (!pulled) return;
    pulled = false;
    await backend.delete(temporary).catch((error: unknown) => {
      logger.warn(
        { model: temporary, err: (error as Error).message },
        'could not drop the temporary model name',
      );
    });
  };
  try {
    for await (const progress of backend.pull(temporary, signal, { insecure: true })) {
      transfer.progress(progress);
      // Ollama's `success` means the temporary name is listed; ours comes once the usual one is.
      if (progress.status === 'success') pulled = true;
      else yield progress;
    }
    if (!pulled) throw new Error('the pull ended without success');
    await backend.copy(temporary, usual);
    await dropTemporary();
    transfer.done();
    yield { status: 'success' };
  } catch (error) {
    transfer.failed((error as Error).message);
    throw error;
  } finally {
    await registry.close();
    await dropTemporary();
  }
}
