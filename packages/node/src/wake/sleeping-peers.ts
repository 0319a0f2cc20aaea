/**
 * Paired machines that are asleep: remembered (known-peers.ts) and not online now. Wakes one on
 * request, and waits, on the mesh's `peer:join`, for it to come back.
 */
import type { NodeCard } from '@allerac/protocol';
import type { Logger } from 'pino';
import { NotWakeableError, UnknownSleeperError } from './errors.js';
import type { KnownPeers } from './known-peers.js';
import type { WakeSender, WakeSent } from './wake-sender.js';

/** The mesh as this module sees it: who is online, and when someone joins or sends a card. */
export interface PeerPresence {
  /** Ids of the peers online now. */
  onlineIds(): Set<string>;
  /** Subscribes to `peer:join` and `peer:update` with the peer's card; returns the unsubscribe. */
  onCard(listener: (event: 'join' | 'update', card: NodeCard) => void): () => void;
}

/** One sleeping machine, for the API and the UI. */
export interface SleepingPeer {
  id: string;
  name: string;
  /** Models its last card listed. */
  models: string[];
  /** Whether it can be woken: Wake-on-LAN on and a LAN MAC known. */
  wakeable: boolean;
  preferredWhenOn: boolean;
  /** When it was last online, ms since the epoch. */
  lastSeen: number;
  /** When a wake-up packet last went to it, within the rate limit. */
  wokenAt?: number;
}

/** Sleeping peers of this node: listed, woken, awaited. */
export class SleepingPeers {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly components: {
      known: KnownPeers;
      presence: PeerPresence;
      sender: WakeSender;
      logger: Logger;
      now?: () => number;
    },
  ) {}

  /** Remembers every card the mesh hands over from now on; idempotent. */
  start(): void {
    if (this.unsubscribe !== undefined) return;
    const now = this.components.now ?? Date.now;
    this.unsubscribe = this.components.presence.onCard((_event, card) => {
      void this.components.known.remember(card, now());
    });
  }

  /** Stops remembering; idempotent. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** The remembered cards of peers that are not online now. */
  cards(): NodeCard[] {
    const online = this.components.presence.onlineIds();
    return this.components.known
      .list()
      .filter((peer) => !online.has(peer.card.peerId))
      .map((peer) => peer.card);
  }

  /** The sleeping peers, most recently seen first. */
  list(): SleepingPeer[] {
    const online = this.components.presence.onlineIds();
    return this.components.known
      .list()
      .filter((peer) => !online.has(peer.card.peerId))
      .map(({ card, lastSeen }) => {
        const wokenAt = this.components.sender.recentlySent(card.peerId);
        return {
          id: card.peerId,
          name: card.name,
          models: card.models.map((m) => m.name),
          wakeable: isWakeable(card),
          preferredWhenOn: card.preferredWhenOn === true,
          lastSeen,
          ...(wokenAt !== undefined ? { wokenAt } : {}),
        };
      });
  }

  /** Whether a packet went to this peer within the rate limit (a second request just waits). */
  recentlyWoken(peerId: string): boolean {
    return this.components.sender.recentlySent(peerId) !== undefined;
  }

  /**
   * Sends a magic packet to a sleeping paired peer, by id or name. Throws UnknownSleeperError for a
   * peer never paired (or forgotten), NotWakeableError for one online or without Wake-on-LAN,
   * WakeRateLimitedError within a minute of the last packet to it.
   */
  async wake(peer: string): Promise<{ id: string; name: string; sent: WakeSent }> {
    const known =
      this.components.known.get(peer)?.card ??
      this.components.known.list().find((p) => p.card.name.toLowerCase() === peer.toLowerCase())?.card;
    if (known === undefined) throw new UnknownSleeperError(peer);
    if (this.components.presence.onlineIds().has(known.peerId))
      throw new NotWakeableError(known.name, 'it is awake');
    if (known.wakeOnLan !== true) throw new NotWakeableError(known.name, 'its card says Wake-on-LAN is off');
    const sent = await this.components.sender.wake({
      id: known.peerId,
      name: known.name,
      macs: known.macs ?? [],
    });
    return { id: known.peerId, name: known.name, sent };
  }

  /** Resolves true once the peer is online (now, or on its `peer:join`), false after `timeoutMs` or an abort. */
  waitForJoin(peerId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.components.presence.onlineIds().has(peerId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (joined: boolean) => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', aborted);
        resolve(joined);
      };
      const aborted = () => done(false);
      const unsubscribe = this.components.presence.onCard((event, card) => {
        if (event === 'join' && card.peerId === peerId) done(true);
      });
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener('abort', aborted, { once: true });
      if (signal?.aborted) done(false);
    });
  }
}

function isWakeable(card: NodeCard): boolean {
  return card.wakeOnLan === true && (card.macs?.length ?? 0) > 0;
}
