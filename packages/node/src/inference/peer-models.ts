/**
 * What a node learns of a peer's models on demand, over INFER_PROTOCOL's `show` and `ps`: the
 * real /api/show record and /api/ps entries of the peer's Ollama, so that cards stay small.
 */
import { randomUUID } from 'node:crypto';
import type { Mesh } from '@allerac/mesh';
import semver from 'semver';
import type { LoadedModel, OllamaObject } from '../backend/backend.js';
import { PeerLostError } from './errors.js';
import { remoteInference } from './remote-inference.js';

/** A peer's metadata answer must arrive within this: clients call /api/show and /api/ps often. */
export const PEER_QUERY_TIMEOUT_MS = 5_000;
/** The `model` of a `ps` request, which concerns every model. */
const EVERY_MODEL = '*';
/** Go's zero time: what a strict client parses when a peer's expiry is unknown. */
export const UNKNOWN_EXPIRY = '0001-01-01T00:00:00Z';

/** Asks one peer for one metadata answer (a single chunk) and waits for the end of its stream. */
async function queryPeer(
  mesh: Mesh,
  peerId: string,
  api: 'show' | 'ps',
  model: string,
  body: OllamaObject,
  signal?: AbortSignal,
): Promise<OllamaObject> {
  const timeout = AbortSignal.timeout(PEER_QUERY_TIMEOUT_MS);
  const chunks = remoteInference(
    mesh,
    peerId,
    { type: 'infer-request', id: randomUUID(), api, model, body, deadlineMs: PEER_QUERY_TIMEOUT_MS },
    signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    { firstChunkMs: PEER_QUERY_TIMEOUT_MS, idleMs: PEER_QUERY_TIMEOUT_MS },
  );
  const first = await chunks.next();
  if (first.done === true) throw new PeerLostError(`peer ${peerId} sent no ${api} answer`);
  // Reading on to infer-done closes the stream cleanly rather than cancelling it.
  const end = await chunks.next();
  if (end.done !== true) await chunks.return(undefined);
  return first.value;
}

/** The peer's Ollama's /api/show record for one of its models (its full name). */
export function showOnPeer(
  mesh: Mesh,
  peerId: string,
  model: string,
  request: OllamaObject,
  signal?: AbortSignal,
): Promise<OllamaObject> {
  return queryPeer(mesh, peerId, 'show', model, { ...request, model }, signal);
}

/** The models the peer's Ollama has loaded, as its /api/ps lists them. */
export async function loadedOnPeer(mesh: Mesh, peerId: string, signal?: AbortSignal): Promise<LoadedModel[]> {
  const answer = await queryPeer(mesh, peerId, 'ps', EVERY_MODEL, {}, signal);
  const models = answer.models;
  if (!Array.isArray(models)) throw new PeerLostError(`peer ${peerId} sent a ps answer without models`);
  return models.filter(
    (m): m is LoadedModel =>
      typeof m === 'object' && m !== null && typeof (m as LoadedModel).name === 'string',
  );
}

/**
 * The lowest of Ollama versions: a client gating on a version needs every node to meet it. Versions
 * that are not semver count only when there is nothing else.
 */
export function lowestVersion(versions: readonly string[]): string | undefined {
  const valid = versions.filter((v) => semver.valid(v) !== null).sort(semver.compare);
  return valid[0] ?? versions[0];
}
