/**
 * Unique display names. Names come from each node's own `--name`, so two machines may both call
 * themselves `office`; the mesh shows them as `office (…k3Zq)` and flags the clash so the UI can
 * ask the user to rename one. The card keeps the name as the node published it.
 */

/** How many trailing characters of the peer id tell clashing names apart. */
const SUFFIX_CHARS = 4;

/** A peer's display name, and whether it had to be made unique. */
export interface DisplayName {
  /** The name to show and to pin by: the card's name, with a suffix on a clash. */
  name: string;
  /** True when another peer, or this node, publishes the same name. */
  clash: boolean;
}

/**
 * Display names for `peers` (id → name as published), given this node's own name, which a peer
 * may share too (this node keeps its name; the peer gets the suffix). Names compare without case.
 */
export function displayNames(selfName: string, peers: ReadonlyMap<string, string>): Map<string, DisplayName> {
  const counts = new Map<string, number>([[fold(selfName), 1]]);
  for (const name of peers.values()) counts.set(fold(name), (counts.get(fold(name)) ?? 0) + 1);
  const out = new Map<string, DisplayName>();
  for (const [id, name] of peers) {
    const clash = (counts.get(fold(name)) ?? 0) > 1;
    out.set(id, { name: clash ? `${name} (…${id.slice(-SUFFIX_CHARS)})` : name, clash });
  }
  return out;
}

function fold(name: string): string {
  return name.trim().toLowerCase();
}
