/**
 * This node's wake fields for its card: the MACs of its home-LAN interfaces and the owner's two
 * flags (`wake.wakeOnLan`, `wake.preferredWhenOn`), cached so a card is built without a query.
 */
import { networkInterfaces } from 'node:os';
import { MAX_CARD_MACS, type NodeCard } from '@allerac/protocol';
import { readSetting, writeSetting } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import { type LanInterface, lanInterfaces, lanMacs } from './lan-interfaces.js';

/** The card's wake fields. */
export type WakeCardFields = Pick<NodeCard, 'macs' | 'wakeOnLan' | 'preferredWhenOn'>;

/** The owner's flags this node publishes. */
export interface WakeFlags {
  wakeOnLan: boolean;
  preferredWhenOn: boolean;
}

/** This node's wake fields, read from Settings at start and changed by PATCH /allerac/v1/settings. */
export class LocalWakeCard {
  private flags: WakeFlags = { wakeOnLan: false, preferredWhenOn: false };

  constructor(
    private readonly components: {
      settings: SettingsRepository;
      /** Called after a flag changed, so the mesh re-publishes the card. */
      changed: () => void;
      /** This machine's LAN interfaces; the OS's by default (read per card: DHCP and Wi-Fi move). */
      interfaces?: () => LanInterface[];
    },
  ) {}

  /** Reads the stored flags. */
  async load(): Promise<void> {
    this.flags = {
      wakeOnLan: await readSetting(this.components.settings, 'wake.wakeOnLan'),
      preferredWhenOn: await readSetting(this.components.settings, 'wake.preferredWhenOn'),
    };
  }

  /** The flags as published now. */
  current(): WakeFlags {
    return { ...this.flags };
  }

  /** Stores and publishes new flags; the card follows within the mesh's throttle. */
  async set(next: Partial<WakeFlags>): Promise<void> {
    if (next.wakeOnLan !== undefined)
      await writeSetting(this.components.settings, 'wake.wakeOnLan', next.wakeOnLan);
    if (next.preferredWhenOn !== undefined)
      await writeSetting(this.components.settings, 'wake.preferredWhenOn', next.preferredWhenOn);
    this.flags = { ...this.flags, ...next };
    this.components.changed();
  }

  /** The fields for the next card. */
  fields(): WakeCardFields {
    const interfaces = (this.components.interfaces ?? (() => lanInterfaces(networkInterfaces())))();
    const macs = lanMacs(interfaces, MAX_CARD_MACS);
    return { ...(macs.length > 0 ? { macs } : {}), ...this.flags };
  }
}
