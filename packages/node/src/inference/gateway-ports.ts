/**
 * What the mesh gateway needs from outside the node: the peers it may route to and a way to run
 * an inference on one of them. A running `Mesh` gives both; tests give them in process.
 */
import type { PeerView } from '@allerac/mesh';
import type { InferRequestMessage, InferStats } from '@allerac/protocol';
import type { OllamaObject } from '../backend/backend.js';
import { PeerLostError } from './errors.js';
import type { RemoteDeadlines } from './remote-inference.js';

/**
 * Runs one inference on a peer and yields its Ollama chunks; returns the peer's `infer-done`
 * stats. Throws RemoteInferenceError for a typed refusal and PeerLostError when the peer goes
 * away; aborting `signal` cancels the peer's generation.
 */
export type RemoteInference = (
  peerId: string,
  request: InferRequestMessage,
  signal: AbortSignal,
  deadlines: RemoteDeadlines,
) => AsyncGenerator<OllamaObject, InferStats | undefined>;

/** The peers the gateway may route to; a running Mesh is one. */
export interface PeerDirectory {
  /** This node's own id (a Mesh throws before it has started). */
  readonly peerId: string;
  /** Every peer known, online or gone, this node excluded. */
  peers(): PeerView[];
}

/** The port while no mesh runs: no peer can be reached. */
// biome-ignore lint/correctness/useYield: it fails before any chunk, as an unreachable peer does.
export const NO_REMOTE: RemoteInference = async function* (peerId) {
  throw new PeerLostError(`could not reach peer ${peerId}: the mesh is not running`);
};
