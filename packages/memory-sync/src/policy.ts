import { InvalidSpaceInputError } from './errors.js';

/** Which peers may sync a space: every paired peer, or the listed peer ids only. */
export type SpacePeers = 'all' | readonly string[];

/** A space's sharing policy, kept by each node for its own copy. */
export interface SpacePolicy {
  /** Peers allowed to sync this space with this node. */
  peers: SpacePeers;
}

/** Space names: 1 to 64 characters of letters, digits, `-`, `_` and `.`, starting with a letter or digit. */
export const SPACE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Most peer ids a policy may list: a home has a handful of machines. */
export const MAX_POLICY_PEERS = 256;

/** Throws InvalidSpaceInputError unless `name` is a usable space name. */
export function validateSpaceName(name: unknown): string {
  if (typeof name !== 'string' || !SPACE_NAME_PATTERN.test(name)) {
    throw new InvalidSpaceInputError(
      'space name must be 1 to 64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return name;
}

/** Validates a policy's `peers` value as sent by a client: "all" or an array of peer ids. */
export function validatePolicy(peers: unknown): SpacePolicy {
  if (peers === 'all') return { peers: 'all' };
  if (
    Array.isArray(peers) &&
    peers.length <= MAX_POLICY_PEERS &&
    peers.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 128)
  ) {
    return { peers: [...new Set(peers as string[])] };
  }
  throw new InvalidSpaceInputError(`peers must be "all" or an array of at most ${MAX_POLICY_PEERS} peer ids`);
}

/** True when the policy lets `peerId` sync the space. `all` means every paired peer of the mesh. */
export function mayShareWith(policy: SpacePolicy, peerId: string): boolean {
  return policy.peers === 'all' || policy.peers.includes(peerId);
}
