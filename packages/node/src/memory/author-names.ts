/**
 * The name a memory's author goes by now. Memories record the author's peer id, which never
 * changes; people know nodes by their names, which do.
 */
import { peerIdFromString } from '@libp2p/peer-id';

/** Where the current names come from. */
export interface AuthorNameSources {
  /** Whether an author id is this node (its peer id, or a name it wrote under before). */
  isOwn: (authorId: string) => boolean;
  /** This node's live name. */
  selfName: () => string;
  /** A peer's display name from its card; undefined when the mesh does not know it. */
  peerName: (peerId: string) => string | undefined;
}

/** Trailing characters of a peer id shown for an author the mesh does not know (as peer-names.ts). */
const SHORT_ID_CHARS = 6;

/** Maps an author id to the name to show: self, a known peer, or a short form of an unknown peer id. */
export function authorNamer(sources: AuthorNameSources): (authorId: string) => string {
  return (authorId) => {
    if (sources.isOwn(authorId)) return sources.selfName();
    const known = sources.peerName(authorId);
    if (known !== undefined) return known;
    // A memory from before ids were stable names its author by the name it had then.
    return isPeerId(authorId) ? `…${authorId.slice(-SHORT_ID_CHARS)}` : authorId;
  };
}

function isPeerId(id: string): boolean {
  try {
    peerIdFromString(id);
    return true;
  } catch {
    return false;
  }
}
