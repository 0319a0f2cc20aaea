import type { Mesh } from '@allerac/mesh';
import type { InferRequestMessage, InferStats } from '@allerac/protocol';
import type { OllamaObject } from '../backend/backend.js';
import { type ChannelCall, DONE, type RemoteDeadlines } from './infer-channel.js';
import { channelPoolOf, type InferChannelPool } from './infer-channel-pool.js';
import { statsOf } from './infer-service.js';

export type { RemoteDeadlines } from './infer-channel.js';

/** Runs one inference on a peer: what the gateway's remote-inference port is. */
export type RemoteInferenceFn = (
  peerId: string,
  request: InferRequestMessage,
  signal: AbortSignal,
  deadlines: RemoteDeadlines,
) => AsyncGenerator<OllamaObject, InferStats | undefined>;

/**
 * Runs an inference on a peer over its inference channel (INFER_CHANNEL_PROTOCOL) and yields its
 * Ollama chunks; returns the stats of Ollama's final chunk. Throws RemoteInferenceError for a
 * typed refusal, PeerLostError when the peer goes away, PeerStreamLimitError when this node
 * already has MAX_INFER_IN_FLIGHT requests on the peer, RequestTooLargeError for a request no
 * frame holds; aborting `signal` (or returning early) sends `infer-cancel` so the peer stops.
 */
export function remoteInference(
  mesh: Mesh,
  peerId: string,
  request: InferRequestMessage,
  signal: AbortSignal,
  deadlines: RemoteDeadlines,
): AsyncGenerator<OllamaObject, InferStats | undefined> {
  return run(channelPoolOf(mesh), peerId, request, signal, deadlines);
}

/**
 * The remote-inference port of a mesh: `remoteInference` bound to it. Made when the mesh is, it
 * opens every peer's channel as the peer joins, so that not even the first request waits for a
 * stream to open.
 */
export function createRemoteInference(mesh: Mesh): RemoteInferenceFn {
  const pool = channelPoolOf(mesh);
  return (peerId, request, signal, deadlines) => run(pool, peerId, request, signal, deadlines);
}

async function* run(
  pool: InferChannelPool,
  peerId: string,
  request: InferRequestMessage,
  signal: AbortSignal,
  deadlines: RemoteDeadlines,
): AsyncGenerator<OllamaObject, InferStats | undefined> {
  const channel = pool.current(peerId) ?? (await pool.channel(peerId, signal));
  const call: ChannelCall = await channel.start(request, signal, deadlines);
  let last: OllamaObject | undefined;
  try {
    for (;;) {
      const next = call.take();
      if (next === undefined) await call.wait();
      else if (next === DONE) return statsOf(last);
      else {
        last = next;
        yield next;
      }
    }
  } finally {
    call.release();
  }
}
