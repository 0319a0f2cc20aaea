/**
 * Persistence of peers: libp2p's peer store on disk under `<data-dir>/peers`, shared by every
 * transport of one mesh, where a paired peer is tagged so that this node redials it after a drop
 * and at the next start, without discovery.
 */
import { join } from 'node:path';
import { KEEP_ALIVE, type Libp2p } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import { FsDatastore } from 'datastore-fs';
import type { Logger } from 'pino';

/** Marks a peer whose card this node verified; unlike KEEP_ALIVE tags, libp2p never drops it. */
const PAIRED_TAG = 'allerac-paired';
/**
 * libp2p's connection manager redials a peer with a KEEP_ALIVE tag at start and after a drop
 * (its reconnect queue), and never prunes its connection.
 */
const KEEP_ALIVE_TAG = `${KEEP_ALIVE}-allerac`;
/**
 * How long the peer store on disk keeps a peer and its addresses unseen. libp2p's defaults (1 h of
 * addresses, 6 h of peer) would forget a laptop away for a weekend, and without mDNS two nodes that
 * forgot each other never meet again.
 */
export const PEER_MEMORY_MS = 30 * 24 * 60 * 60 * 1000;
/** Directory of the peer store under the data dir. */
const PEER_STORE_DIR = 'peers';

/** What the peer memory reads. */
export interface PeerMemoryComponents {
  logger: Logger;
  node: () => Libp2p | undefined;
  isDenied: (peer: string) => boolean;
}

/** The peers this node remembers across drops, restarts and key changes. */
export class PeerMemory {
  private store: FsDatastore | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly components: PeerMemoryComponents,
  ) {}

  /** The open datastore, for the transport's peer store; undefined while closed. */
  get datastore(): FsDatastore | undefined {
    return this.store;
  }

  async open(): Promise<void> {
    this.store = new FsDatastore(join(this.dataDir, PEER_STORE_DIR));
    await this.store.open();
  }

  async close(): Promise<void> {
    await this.store?.close().catch(() => undefined);
    this.store = undefined;
  }

  /** Tags a peer whose card verified: libp2p redials it (KEEP_ALIVE) and the next start knows it. */
  async remember(peer: string): Promise<void> {
    if (this.components.isDenied(peer)) return;
    const tag = { value: 100 };
    await this.components
      .node()
      ?.peerStore.merge(peerIdFromString(peer), { tags: { [PAIRED_TAG]: tag, [KEEP_ALIVE_TAG]: tag } })
      .catch((err: unknown) =>
        this.components.logger.debug({ event: 'peer-remember-failed', peer, err: String(err) }),
      );
  }

  /** Stops libp2p redialling a peer (it is being removed); the peer stays known. */
  async unpin(peer: string): Promise<void> {
    await this.components
      .node()
      ?.peerStore.merge(peerIdFromString(peer), { tags: { [KEEP_ALIVE_TAG]: undefined } })
      .catch(() => undefined);
  }

  /** Deletes a removed peer from the store, then hangs up on it. */
  forget(peer: string): void {
    const node = this.components.node();
    if (node === undefined) return;
    const id = peerIdFromString(peer);
    // Deleted before the hang-up, so libp2p's reconnect queue finds no KEEP_ALIVE tag.
    void node.peerStore
      .delete(id)
      .catch(() => undefined)
      .then(() => node.hangUp(id))
      .catch(() => undefined);
  }

  /** The paired peers of the store, after dropping blocked ones (a block learnt while it was closed). */
  async recall(blocked: readonly string[]): Promise<string[]> {
    const node = this.components.node();
    if (node === undefined) return [];
    for (const peer of blocked) await node.peerStore.delete(peerIdFromString(peer)).catch(() => undefined);
    const paired = await node.peerStore
      .all({ filters: [(p) => p.tags.has(PAIRED_TAG)] })
      .catch((err: unknown) => {
        this.components.logger.warn(
          { event: 'peer-store-unreadable', err: String(err) },
          'could not read the peer store',
        );
        return [];
      });
    const peers = paired.map((p) => p.id.toString()).filter((p) => !this.components.isDenied(p));
    this.components.logger.info({ event: 'peers-remembered', peers }, 'peers remembered');
    return peers;
  }

  async addresses(peer: string): Promise<Multiaddr[]> {
    const found = await this.components
      .node()
      ?.peerStore.get(peerIdFromString(peer))
      .catch(() => undefined);
    return found?.addresses.map((a) => a.multiaddr) ?? [];
  }
}
