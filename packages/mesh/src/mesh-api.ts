/** The mesh's public shape: its options, injected components, events and the `Mesh` interface. */
import type { NodeCard } from '@allerac/protocol';
import type { Startable, Stream, TypedEventTarget } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { MeshStreamHandler } from './admission.js';
import type { HardwareProbe, LocalCardState } from './card-exchange.js';
import type { MeshKeyStatus } from './key-state.js';
import type { PeerView } from './liveness.js';
import type { JoinOutcome } from './mesh-join.js';

/** Options of the mesh. */
export interface MeshInit {
  /** Human name of this node, published in its card. */
  name: string;
  /** Directory holding `peer-key` and `mesh-state.json`. */
  dataDir: string;
  /** Swarm-key file; created with a new key when missing. */
  meshKeyFile: string;
  /** Address to listen on, e.g. `0.0.0.0` or `127.0.0.1`. */
  listenHost: string;
  /** TCP port for libp2p; 0 picks any free port. */
  p2pPort: number;
  /** Specializations published in the card. */
  specializations: string[];
  /** Software version published in the card. */
  softwareVersion: string;
  /** mDNS service tag; defaults to DEFAULT_MDNS_SERVICE_TAG. */
  mdnsServiceTag?: string;
  /** mDNS query interval in ms; defaults to DEFAULT_MDNS_INTERVAL_MS. */
  mdnsIntervalMs?: number;
  /** Set false to turn mDNS off (peers then come from `bootstrap` or `connect`). */
  mdns?: boolean;
  /** Multiaddrs (with /p2p/ id) dialled at start, for networks without multicast. */
  bootstrap?: string[];
  /** Heartbeat interval in ms; defaults to HEARTBEAT_INTERVAL_MS. */
  heartbeatIntervalMs?: number;
}

/** Injected dependencies of the mesh. */
export interface MeshComponents {
  /** Structured logger. */
  logger: Logger;
  /** Supplies backend, models and load for each card. */
  cardSource: () => Promise<LocalCardState>;
  /** Supplies this machine's hardware facts for the card (the node injects its system probe). */
  hardware: HardwareProbe;
}

/**
 * Events of the mesh. A peer event carries the peer's view after the change. Listeners must not
 * throw: an EventTarget reports a listener's exception as an uncaught one.
 */
export interface MeshEvents {
  /** A peer became online (first time, or back after being gone). */
  'peer:join': CustomEvent<PeerView>;
  /** An online peer sent a new card. */
  'peer:update': CustomEvent<PeerView>;
  /** A peer became gone. */
  'peer:leave': CustomEvent<PeerView>;
  /** This node published a changed card (load, models, backend, free memory). */
  'self:update': CustomEvent<NodeCard>;
}

/** The mesh as the rest of the node sees it; its events are MeshEvents. */
export interface Mesh extends TypedEventTarget<MeshEvents>, Startable {
  /** This node's peer id; available once started. */
  readonly peerId: string;
  /** Starts the host; idempotent. */
  start(): Promise<void>;
  /** Announces leave and stops; idempotent. */
  stop(): Promise<void>;
  /** Every peer known (online or gone), this node excluded. */
  peers(): PeerView[];
  /** This node's current card. */
  localCard(): Promise<NodeCard>;
  /** Asks for a card update to be published (throttled to one per second). */
  cardChanged(): void;
  /** Renames this node and/or changes its specialisations; the card is re-published with a new seq. */
  setIdentity(identity: { name: string; specializations: string[] }): void;
  /** Registers a handler for an application protocol; survives transport restarts. */
  handle(protocol: string, handler: MeshStreamHandler): void;
  /** Opens a stream to a connected peer. */
  openStream(peerId: string, protocol: string, signal?: AbortSignal): Promise<Stream>;
  /** Dials a multiaddr (with /p2p/ id); resolves once connected. */
  connect(address: string, signal?: AbortSignal): Promise<void>;
  /** Our listen multiaddrs, each ending in /p2p/<id>. */
  addresses(): string[];
  /**
   * The admin action that removes a peer: a signed rotation that blocks it, adopted by this node
   * and its peers once a majority of them hold it (protocol.md §9). The mesh never starts one itself.
   */
  removePeer(peerId: string): Promise<void>;
  /**
   * Adopts a key from a join code (written to the key file) and swaps it in with setKey; the
   * epoch is then learnt from the peers. Throws RetiredJoinCodeError for a key the home has
   * retired. 'same' changes nothing.
   */
  join(key: Uint8Array): Promise<JoinOutcome>;
  /**
   * Swaps the pre-shared key of a running mesh: restarts only the libp2p host, on the same port,
   * keeping handlers, listeners, peers and cards, and redials every known peer on the new key.
   * The caller has stored the key (join and rotations do). A stopped mesh reads the key file at start.
   */
  setKey(key: Uint8Array): Promise<void>;
  /** Where this node stands with the home's key. */
  keyStatus(): MeshKeyStatus;
}
