/** Sleeping machines and waking them: GET /allerac/v1/peers/sleeping, POST /allerac/v1/peers/:id/wake. */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, IsoTime } from './schema.js';

/** GET /allerac/v1/peers/sleeping takes no query. */
export const SleepingPeersQuery = Type.Object({}, { additionalProperties: false });
export type SleepingPeersQuery = Static<typeof SleepingPeersQuery>;

/** A paired machine that is not online, as its last card described it. */
export const SleepingPeer = Closed({
  id: Type.String(),
  name: Type.String(),
  /** Models its last card listed. */
  models: Type.Array(Type.String()),
  /** Whether it can be woken: its card says Wake-on-LAN is on and names a LAN MAC. */
  wakeable: Type.Boolean(),
  /** Whether the home prefers it while it is on. */
  preferredWhenOn: Type.Boolean(),
  /** When it was last online. */
  lastSeen: IsoTime,
  /** When a wake-up packet last went to it, within the one-a-minute limit. */
  wokenAt: Type.Optional(IsoTime),
});
export type SleepingPeer = Static<typeof SleepingPeer>;

/** GET /allerac/v1/peers/sleeping, most recently seen first. */
export const SleepingPeerList = Type.Array(SleepingPeer);
export type SleepingPeerList = Static<typeof SleepingPeerList>;

/** POST /allerac/v1/peers/:id/wake: the packet went out; the machine joins when it has woken. */
export const PeerWoken = Closed({
  id: Type.String(),
  name: Type.String(),
  /** The MACs a magic packet was sent for. */
  macs: Type.Array(Type.String()),
  /** The LAN broadcast addresses it went to. */
  broadcasts: Type.Array(Type.String()),
  at: IsoTime,
});
export type PeerWoken = Static<typeof PeerWoken>;
