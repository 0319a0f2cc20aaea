/**
 * The last card of every paired peer, kept on disk (`<data-dir>/known-peers.json`, 0600), so a
 * node that restarts still knows what a sleeping machine holds and how to wake it. A peer is known
 * only once it joined the mesh, which takes the home's key: only paired peers are ever here.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type NodeCard, validateNodeCard } from '@allerac/protocol';
import type { Logger } from 'pino';
import { PRIVATE_FILE_MODE } from '../store/file-modes.js';
import { KNOWN_PEERS_FILE, MAX_REMEMBERED_PEERS } from './constants.js';

/** One remembered peer. */
export interface KnownPeer {
  /** Its card as it would be on waking: nothing loaded, no load, memory free. */
  card: NodeCard;
  /** When it was last online, ms since the epoch. */
  lastSeen: number;
}

interface KnownPeersFile {
  version: 1;
  peers: KnownPeer[];
}

/** Options of the store. */
export interface KnownPeersInit {
  dataDir: string;
  /** Most peers kept; the longest unseen go first. */
  max?: number;
}

/** Remembered cards of paired peers, read at start and written when one changes. */
export class KnownPeers {
  private readonly peers = new Map<string, KnownPeer>();
  private readonly file: string;
  private readonly max: number;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    init: KnownPeersInit,
    private readonly components: { logger: Logger },
  ) {
    this.file = join(init.dataDir, KNOWN_PEERS_FILE);
    this.max = init.max ?? MAX_REMEMBERED_PEERS;
  }

  /** Reads the file; a missing or unreadable one is an empty memory (it is only a cache of cards). */
  async load(): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(this.file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.components.logger.warn(
          { event: 'known-peers-unreadable', err: String(error) },
          'ignoring known peers',
        );
      return;
    }
    const peers = (parsed as Partial<KnownPeersFile> | null)?.peers;
    if (!Array.isArray(peers)) return;
    for (const entry of peers.slice(0, this.max)) {
      try {
        const card = validateNodeCard((entry as KnownPeer).card);
        const lastSeen = Number((entry as KnownPeer).lastSeen);
        if (Number.isFinite(lastSeen)) this.peers.set(card.peerId, { card, lastSeen });
      } catch {
        // A hand-edited or truncated entry is dropped, not trusted.
      }
    }
  }

  /** Every remembered peer, most recently seen first. */
  list(): KnownPeer[] {
    return [...this.peers.values()].sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** One remembered peer. */
  get(peerId: string): KnownPeer | undefined {
    return this.peers.get(peerId);
  }

  /** Remembers a peer's card (on join and update); writes only when what matters asleep changed. */
  async remember(card: NodeCard, seenAt: number): Promise<void> {
    const resting = restingCard(card);
    const previous = this.peers.get(card.peerId);
    this.peers.set(card.peerId, { card: resting, lastSeen: seenAt });
    this.evict();
    if (previous !== undefined && sameAsleep(previous.card, resting)) return;
    await this.persist();
  }

  /** Forgets a peer (it was removed from the home); its MACs are never used again. */
  async forget(peerId: string): Promise<void> {
    if (this.peers.delete(peerId)) await this.persist();
  }

  /** Waits for the last write. */
  async flush(): Promise<void> {
    await this.writing;
  }

  private evict(): void {
    const byAge = this.list();
    for (const old of byAge.slice(this.max)) this.peers.delete(old.card.peerId);
  }

  /** Writes through a temporary file, one write at a time, so a crash never leaves half a file. */
  private persist(): Promise<void> {
    const body = `${JSON.stringify({ version: 1, peers: this.list() } satisfies KnownPeersFile)}\n`;
    this.writing = this.writing.then(async () => {
      const temporary = `${this.file}.tmp`;
      try {
        await writeFile(temporary, body, { mode: PRIVATE_FILE_MODE });
        await rename(temporary, this.file);
      } catch (error) {
        this.components.logger.warn(
          { event: 'known-peers-unwritable', err: String(error) },
          'could not save known peers',
        );
      }
    });
    return this.writing;
  }
}

/**
 * The card as the machine will be when it wakes: nothing loaded, idle, its memory free. That is
 * what a wake decision needs, and it changes only when models, hardware or wake fields do.
 */
export function restingCard(card: NodeCard): NodeCard {
  return {
    ...card,
    hardware: {
      ...card.hardware,
      ramFree: card.hardware.ramTotal,
      gpus: card.hardware.gpus.map((gpu) => ({ ...gpu, vramFree: gpu.vramTotal })),
    },
    models: card.models.map(({ contextLength: _c, expiresAt: _e, ...model }) => ({
      ...model,
      loaded: false,
    })),
    load: { ...card.load, activeTasks: 0, queueDepth: 0 },
  };
}

function sameAsleep(a: NodeCard, b: NodeCard): boolean {
  // Speeds move with every answer and disk space with every write: neither is worth a write.
  const strip = ({
    issuedAt: _i,
    seq: _s,
    load: _l,
    hardware: { diskFree: _d, ...hardware },
    ...rest
  }: NodeCard) => JSON.stringify({ ...rest, hardware });
  return strip(a) === strip(b);
}
