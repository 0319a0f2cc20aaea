/**
 * Spaces that peers offer to this node and it does not hold, as invitations to join or decline.
 * Offers come from the peers' `sync-hello` (memory-sync); nothing of a space's content is taken
 * before it is joined. A decline hides the space until a peer offers it anew: a peer not among
 * the decliners offers it, or a decliner withdraws its offer and makes it again.
 */
import type { SpaceOffer, SpaceSync } from '@allerac/memory-sync';
import type { Logger } from 'pino';
import { readSetting, writeSetting } from '../store/settings-keys.js';
import type { Store } from '../store/store.js';
import { SETTINGS } from './constants.js';
import { InvitationNotFoundError } from './errors.js';

/** The invitations of a node. */
export class SpaceInvitations {
  /** Space name → peers whose offer of it was declined. */
  private declined = new Map<string, Set<string>>();
  private unsubscribe: (() => void) | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly spaces: SpaceSync,
    private readonly store: Pick<Store, 'settings'>,
    private readonly logger: Logger,
  ) {}

  /** Loads the declines and follows the peers' offers; idempotent. */
  async start(): Promise<void> {
    if (this.unsubscribe !== undefined) return;
    const stored = (await readSetting(this.store.settings, SETTINGS.declinedInvitations)) ?? {};
    this.declined = new Map(Object.entries(stored).map(([name, peers]) => [name, new Set(peers)]));
    this.unsubscribe = this.spaces.onOffersChanged(({ peer, withdrawn }) => {
      let changed = false;
      for (const name of withdrawn) changed = this.declined.get(name)?.delete(peer) === true || changed;
      if (changed) void this.save().catch(() => undefined);
    });
  }

  /** Stops following offers and waits for the last write; idempotent. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.saving;
  }

  /** The spaces offered and neither held nor declined. */
  list(): SpaceOffer[] {
    return this.spaces.offers().filter((offer) => !this.isDeclined(offer));
  }

  /**
   * The offer of `name` that the user may act on; throws InvitationNotFoundError when no peer
   * offers it (or this node holds it already).
   */
  offer(name: string): SpaceOffer {
    const offer = this.spaces.offers().find((o) => o.name === name);
    if (offer === undefined) throw new InvitationNotFoundError(name);
    return offer;
  }

  /** Forgets the declines of a space (it was joined). */
  async joined(name: string): Promise<void> {
    if (this.declined.delete(name)) await this.save();
  }

  /** Hides an invitation until it is offered anew. */
  async decline(name: string): Promise<void> {
    const offer = this.offer(name);
    const peers = this.declined.get(name) ?? new Set<string>();
    for (const peer of offer.peers) peers.add(peer);
    this.declined.set(name, peers);
    await this.save();
  }

  private isDeclined(offer: SpaceOffer): boolean {
    const peers = this.declined.get(offer.name);
    return peers !== undefined && offer.peers.every((p) => peers.has(p));
  }

  private save(): Promise<void> {
    const value = Object.fromEntries(
      [...this.declined].filter(([, peers]) => peers.size > 0).map(([name, peers]) => [name, [...peers]]),
    );
    this.saving = this.saving
      .catch(() => undefined)
      .then(() => writeSetting(this.store.settings, SETTINGS.declinedInvitations, value))
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'could not store the declined space invitations');
        throw error;
      });
    return this.saving;
  }
}
