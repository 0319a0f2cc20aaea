/**
 * Sends magic packets: UDP broadcast from this node's LAN interfaces to their subnets' broadcast
 * addresses, port 9, at most once a minute per peer. Which peers may be woken is the caller's
 * check (only paired ones, sleeping-peers.ts); this module only never floods one.
 */
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { WAKE_RATE_LIMIT_MS } from './constants.js';
import { NotWakeableError, WakeRateLimitedError } from './errors.js';
import { type LanInterface, lanInterfaces } from './lan-interfaces.js';
import { buildMagicPacket, WAKE_PORT } from './magic-packet.js';

/** Options of the sender. */
export interface WakeSenderInit {
  /** UDP port; WAKE_PORT unless a test listens elsewhere. */
  port?: number;
  /** Least time between two packets to one peer, ms. */
  rateLimitMs?: number;
}

/** What the sender reads. */
export interface WakeSenderComponents {
  logger: Logger;
  /** This machine's LAN interfaces; the OS's by default. */
  interfaces?: () => LanInterface[];
  /** The clock, ms. */
  now?: () => number;
}

/** A peer to wake, as its last card described it. */
export interface WakeTarget {
  id: string;
  name: string;
  macs: readonly string[];
}

/** What a wake sent. */
export interface WakeSent {
  /** The MACs a packet was built for. */
  macs: string[];
  /** The broadcast addresses it went to. */
  broadcasts: string[];
  /** When, ms since the epoch. */
  at: number;
}

/** Sends Wake-on-LAN packets with a per-peer rate limit. */
export class WakeSender {
  private readonly lastSent = new Map<string, number>();
  private readonly port: number;
  private readonly rateLimitMs: number;
  private readonly now: () => number;
  private readonly interfaces: () => LanInterface[];

  constructor(
    init: WakeSenderInit,
    private readonly components: WakeSenderComponents,
  ) {
    this.port = init.port ?? WAKE_PORT;
    this.rateLimitMs = init.rateLimitMs ?? WAKE_RATE_LIMIT_MS;
    this.now = components.now ?? Date.now;
    this.interfaces = components.interfaces ?? (() => lanInterfaces(networkInterfaces()));
  }

  /** When a packet last went to this peer, if within the rate limit. */
  recentlySent(peerId: string): number | undefined {
    const at = this.lastSent.get(peerId);
    return at !== undefined && this.now() - at < this.rateLimitMs ? at : undefined;
  }

  /**
   * Broadcasts a magic packet for each of the peer's MACs on every LAN interface. Throws
   * WakeRateLimitedError within a minute of the last one for this peer, NotWakeableError when
   * the peer has no MAC or this machine has no LAN interface.
   */
  async wake(target: WakeTarget): Promise<WakeSent> {
    const now = this.now();
    const last = this.recentlySent(target.id);
    if (last !== undefined)
      throw new WakeRateLimitedError(target.name, Math.ceil((last + this.rateLimitMs - now) / 1000));
    if (target.macs.length === 0)
      throw new NotWakeableError(target.name, 'its card names no LAN MAC address');
    const broadcasts = [...new Set(this.interfaces().map((i) => i.broadcast))];
    if (broadcasts.length === 0)
      throw new NotWakeableError(target.name, 'this machine has no home-LAN interface to send from');
    const packets = target.macs.map(buildMagicPacket);
    // Counted before the send: a failed send must not become a retry storm either.
    this.lastSent.set(target.id, now);
    this.prune(now);
    await broadcast(packets, broadcasts, this.port);
    this.components.logger.info(
      { event: 'wake-sent', peer: target.id, name: target.name, macs: target.macs, broadcasts },
      'sent a Wake-on-LAN packet',
    );
    return { macs: [...target.macs], broadcasts, at: now };
  }

  /** Drops entries past the limit, so the map stays as small as the peers woken lately. */
  private prune(now: number): void {
    for (const [peer, at] of this.lastSent) if (now - at >= this.rateLimitMs) this.lastSent.delete(peer);
  }
}

/** Sends every packet to every address from one broadcast-enabled socket, then closes it. */
async function broadcast(packets: Uint8Array[], addresses: string[], port: number): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setBroadcast(true);
    for (const address of addresses) {
      for (const packet of packets) {
        await new Promise<void>((resolve, reject) =>
          socket.send(packet, port, address, (error) => (error ? reject(error) : resolve())),
        );
      }
    }
  } finally {
    socket.close();
  }
}
