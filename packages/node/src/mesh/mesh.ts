/**
 * The mesh host: a libp2p 3 node (TCP, noise, yamux, pnet, mDNS, identify, ping) that exchanges
 * signed NodeCards with every paired peer, tracks liveness from heartbeats and cuts off misbehaving
 * peers. Key rotation (key-rotation.ts), out-of-date notices (stale-notifier.ts), joins
 * (mesh-join.ts) and display names (peer-names.ts) live in their own modules.
 */

import { join } from 'node:path';
import {
  CARD_PROTOCOL,
  CARD_UPDATE_MIN_INTERVAL_MS,
  type CardMessage,
  type CardUpdateMessage,
  FramedStream,
  FrameTimeoutError,
  type HardwareInfo,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_MISS_THRESHOLD,
  INFER_PROTOCOL,
  KEY_PROTOCOL,
  type LoadInfo,
  MAX_INBOUND_STREAMS,
  MAX_INFER_OPENS_PER_WINDOW,
  MAX_MISBEHAVIOUR_BACKOFF_MS,
  MAX_STREAM_OPENS_PER_WINDOW,
  MISBEHAVIOUR_BACKOFF_MS,
  type ModelInfo,
  meshKeyId,
  type NodeCard,
  PROTOCOL_VERSION,
  ProtocolError,
  type ProtocolId,
  type SignedKeyRotation,
  STREAM_FLOOD_WINDOW_MS,
  signedCardMessage,
  UnexpectedMessageError,
  verifyCardMessage,
} from '@allerac/protocol';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import {
  type Connection,
  KEEP_ALIVE,
  type Libp2p,
  type PeerId,
  type PrivateKey,
  type Stream,
  TypedEventEmitter,
  type TypedEventTarget,
} from '@libp2p/interface';
import { mdns } from '@libp2p/mdns';
import { peerIdFromString } from '@libp2p/peer-id';
import { type Ping, ping } from '@libp2p/ping';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { FsDatastore } from 'datastore-fs';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import { createSystemProbe, type HardwareProbe } from '../system/hardware.js';
import { createKeyRotation, type KeyRotationService } from './key-rotation.js';
import { CannotRemoveSelfError, KeyRotationBusyError, MeshKeyOutOfDateError } from './mesh-errors.js';
import { applyJoin, type JoinOutcome, RetiredJoinCodeError } from './mesh-join.js';
import { formatSwarmKey, loadOrCreateMeshKey, writeMeshKey } from './mesh-key.js';
import {
  addRetiredKey,
  loadMeshState,
  loadOrCreatePeerKey,
  loadRetiredKeys,
  type MeshState,
  saveMeshState,
} from './mesh-state.js';
import { displayNames } from './peer-names.js';
import { StaleNotifier } from './stale-notifier.js';

/** Our own mDNS service tag, so other libp2p software on the LAN is neither found nor dialled. */
export const DEFAULT_MDNS_SERVICE_TAG = '_allerac-mesh._udp.local';
/** mDNS query interval: short, because a home LAN is small and joins should feel instant. */
export const DEFAULT_MDNS_INTERVAL_MS = 2_000;
/** A peer silent this long is hung up on (without back-off) so the connection can be rebuilt. */
const SILENT_HANGUP_MS = 15_000;
/** Cards are re-read (RAM free, load) this often even when nobody calls cardChanged(). */
const CARD_REFRESH_MS = 5_000;
/**
 * libp2p's reconnect queue redials a KEEP_ALIVE peer after a drop: first delay, doubling, bounded
 * attempts (about four minutes in all); past that the heartbeat tick keeps trying (onTick).
 */
const REDIAL_FIRST_MS = 250;
const REDIAL_ATTEMPTS = 10;
/** Marks a peer whose card this node verified; unlike KEEP_ALIVE tags, libp2p never drops it. */
const PAIRED_TAG = 'allerac-paired';
/** libp2p redials peers with a KEEP_ALIVE tag at start and after a drop, and never prunes them. */
const KEEP_ALIVE_TAG = `${KEEP_ALIVE}-allerac`;
/**
 * How long the peer store on disk keeps a peer and its addresses unseen. libp2p's defaults (1 h of
 * addresses, 6 h of peer) would forget a laptop away for a weekend, and without mDNS two nodes that
 * forgot each other never meet again.
 */
const PEER_MEMORY_MS = 30 * 24 * 60 * 60 * 1000;
/** Directory of the peer store under the data dir. */
const PEER_STORE_DIR = 'peers';
/** A dial that failed (wrong key, unreachable) is not retried before this; doubles per failure. */
const DIAL_FAILURE_BACKOFF_MS = 5_000;
/**
 * Cap of the doubling dial back-off. The heartbeat tick keeps redialling every known, unconnected
 * peer at this pace at most: libp2p announces an mDNS peer only once (when it is new to the peer
 * store), so a first dial lost in a start-up storm would otherwise never be retried.
 */
const DIAL_FAILURE_BACKOFF_MAX_MS = 15_000;
/** Timeout of a dial to a discovered or known peer; generous because a busy host upgrades slowly. */
const DIAL_TIMEOUT_MS = 10_000;
/** An `opening` entry older than this belongs to a card-stream attempt that hung; it is ignored. */
const OPENING_STALE_MS = 30_000;

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

/** The parts of the card that the rest of the node knows: backend, models and load. */
export interface LocalCardState {
  /** Backend state. */
  backend: NodeCard['backend'];
  /** Installed models. */
  models: ModelInfo[];
  /** Live load. */
  load: LoadInfo;
}

/** Injected dependencies of the mesh. */
export interface MeshComponents {
  /** Structured logger. */
  logger: Logger;
  /** Supplies backend, models and load for each card. */
  cardSource: () => Promise<LocalCardState>;
  /** Supplies hardware facts; defaults to a systeminformation probe of the data dir. */
  hardware?: HardwareProbe;
}

/** What this node knows about one peer. */
export interface PeerView {
  /** Peer id. */
  id: string;
  /** Name from its card, with a short id suffix when another node publishes the same name. */
  name: string;
  /** True when the name clashes with another node's, so the UI can ask for a rename. */
  nameClash: boolean;
  /** `online` while connected and heard from; `gone` after leave, disconnect or silence. */
  status: 'online' | 'gone';
  /** Its last verified card. */
  card: NodeCard;
  /** When it was last heard from, ms since the epoch. */
  lastSeen: number;
  /** Last measured round-trip time in ms. */
  rttMs?: number;
  /** Remote addresses of its open connections. */
  addresses: string[];
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

/** Where this node stands with the home's mesh key. */
export interface MeshKeyStatus {
  /**
   * `current`; `joining` after a join until the epoch is learnt from the peers; `out-of-date` when
   * the home rotated the key while this node was away; `removed` when that rotation removed it.
   */
  state: 'current' | 'joining' | 'out-of-date' | 'removed';
  /** Key epoch; null while joining. */
  epoch: number | null;
  /** What to do about it, for logs, `/health` and the UI; absent when all is well. */
  message?: string;
  /** The rotation that introduced the current key. */
  lastRotation?: { epoch: number; issuer: string; removed: string | undefined; issuedAt: number };
}

/** Handler of an application protocol stream. */
export type MeshStreamHandler = (stream: Stream, peerId: string) => void | Promise<void>;

/** The mesh as the rest of the node sees it; its events are MeshEvents. */
export interface Mesh extends TypedEventTarget<MeshEvents> {
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
   * Adopts a key from a join code and restarts the transport; the epoch is then learnt from the
   * peers. Throws RetiredJoinCodeError for a key the home has retired. 'same' changes nothing.
   */
  join(key: Uint8Array): Promise<JoinOutcome>;
  /** Where this node stands with the home's key. */
  keyStatus(): MeshKeyStatus;
}

/** Creates the mesh; nothing happens until start(). */
export function createMesh(init: MeshInit, components: MeshComponents): Mesh {
  return new Libp2pMesh(init, components);
}

interface PeerState {
  id: string;
  card?: NodeCard;
  status: 'online' | 'gone';
  lastSeen: number;
  rttMs?: number;
  /** Left gracefully: not redialled until it shows up again. */
  left: boolean;
}

type Services = { identify: unknown; ping: Ping };

class Libp2pMesh extends TypedEventEmitter<MeshEvents> implements Mesh {
  private init: MeshInit;
  private readonly log: Logger;
  private readonly components: MeshComponents;
  private readonly hardware: HardwareProbe;
  private readonly heartbeatMs: number;
  private node: Libp2p<Services> | undefined;
  /** The peer store on disk, shared by every transport of this mesh; open while running. */
  private datastore: FsDatastore | undefined;
  private privateKey: PrivateKey | undefined;
  private meshKey: Uint8Array | undefined;
  private state: MeshState = { epoch: 0, blocked: [], retired: [] };
  private rotation: KeyRotationService | undefined;
  private notifier: StaleNotifier | undefined;
  /** The port the transport got; kept across key restarts so peers' remembered addresses stay valid. */
  private boundPort: number | undefined;
  /** Peers being removed right now: refused while their rotation is under way. */
  private readonly removing = new Set<string>();
  private running = false;
  private lifecycle: Promise<void> = Promise.resolve();
  private readonly peerStates = new Map<string, PeerState>();
  private readonly outbound = new Map<string, FramedStream>();
  /** Card streams being opened, with when the attempt started. */
  private readonly opening = new Map<string, number>();
  private readonly handlers = new Map<string, MeshStreamHandler>();
  private readonly backoff = new Map<string, { until: number; strikes: number }>();
  private readonly dialFailures = new Map<string, { at: number; count: number }>();
  /** Peers found by discovery or met on a connection: redialled by the tick until connected. */
  private readonly known = new Set<string>();
  /** Peers with a dial of ours in flight, so the tick does not stack dials. */
  private readonly dialing = new Set<string>();
  private readonly streamOpens = new Map<string, number[]>();
  private readonly concurrent = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private updateTimer: NodeJS.Timeout | undefined;
  private tick = 0;
  private lastTickAt: number | undefined;
  /** This process's recent event-loop lateness at heartbeat ticks, decaying, in ms. */
  private recentLag = 0;
  private seq = 0;
  private current: CardMessage | undefined;
  private lastPublishedAt = 0;

  constructor(init: MeshInit, components: MeshComponents) {
    super();
    this.init = init;
    this.components = components;
    this.log = components.logger.child({ component: 'mesh' });
    this.hardware = components.hardware ?? createSystemProbe({ dataDir: init.dataDir }).hardware;
    this.heartbeatMs = init.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
    this.handlers.set(CARD_PROTOCOL, (stream, peer) => this.onCardStream(stream, peer));
    this.handlers.set(KEY_PROTOCOL, (stream, peer) => this.rotation?.handle(stream, peer));
  }

  get peerId(): string {
    if (this.node === undefined) throw new Error('mesh not started');
    return this.node.peerId.toString();
  }

  start(): Promise<void> {
    this.lifecycle = this.lifecycle.then(async () => {
      if (this.running) return;
      this.privateKey ??= await loadOrCreatePeerKey(this.init.dataDir);
      this.meshKey = await loadOrCreateMeshKey(this.init.meshKeyFile);
      this.state = await this.reconcileState(this.meshKey);
      this.rotation ??= this.createRotation();
      this.rotation.reset();
      this.notifier ??= new StaleNotifier({
        privateKey: this.privateKey,
        dataDir: this.init.dataDir,
        logger: this.log,
      });
      // Warm the hardware cache so the first card, sent on the first connection, is not delayed.
      await this.hardware().catch(() => undefined);
      this.datastore = new FsDatastore(join(this.init.dataDir, PEER_STORE_DIR));
      await this.datastore.open();
      try {
        await this.startNode();
      } catch (err) {
        await this.datastore.close().catch(() => undefined);
        this.datastore = undefined;
        throw err;
      }
      await this.recallPeers();
      this.running = true;
      this.lastTickAt = undefined;
      this.recentLag = 0;
      this.timers.push(setInterval(() => this.onTick(), this.heartbeatMs));
      this.timers.push(setInterval(() => this.cardChanged(), CARD_REFRESH_MS));
      this.log.info(
        { event: 'mesh-started', peerId: this.peerId, addresses: this.addresses(), epoch: this.state.epoch },
        'mesh started',
      );
      this.warnIfOutOfDate();
    });
    return this.lifecycle;
  }

  stop(): Promise<void> {
    this.lifecycle = this.lifecycle.then(async () => {
      if (!this.running) return;
      this.running = false;
      for (const t of this.timers) clearInterval(t);
      this.timers = [];
      clearTimeout(this.updateTimer);
      this.updateTimer = undefined;
      await this.sendLeave('shutdown');
      await this.stopNode();
      await this.datastore?.close();
      this.datastore = undefined;
      for (const peer of this.peerStates.values()) this.markGone(peer.id, 'local-stop');
      this.log.info({ event: 'mesh-stopped' }, 'mesh stopped');
    });
    return this.lifecycle;
  }

  peers(): PeerView[] {
    const names = this.names();
    return [...this.peerStates.values()].flatMap((p) => {
      const view = this.view(p, names);
      return view === undefined ? [] : [view];
    });
  }

  async localCard(): Promise<NodeCard> {
    if (this.current !== undefined) return this.current.card;
    return this.buildCard(this.seq);
  }

  cardChanged(): void {
    if (!this.running || this.updateTimer !== undefined) return;
    const delay = Math.max(0, this.lastPublishedAt + CARD_UPDATE_MIN_INTERVAL_MS - Date.now());
    this.updateTimer = setTimeout(() => {
      this.publish()
        .catch((err: unknown) => this.log.warn({ event: 'card-publish-failed', err }, 'card publish failed'))
        .finally(() => {
          this.updateTimer = undefined;
        });
    }, delay);
  }

  setIdentity(identity: { name: string; specializations: string[] }): void {
    this.init = { ...this.init, name: identity.name, specializations: [...identity.specializations] };
    this.cardChanged();
  }

  handle(protocol: string, handler: MeshStreamHandler): void {
    this.handlers.set(protocol, handler);
    this.node?.handle(protocol, this.wrap(protocol, handler), {
      maxInboundStreams: 1024,
      maxOutboundStreams: 1024,
    });
  }

  async openStream(peerId: string, protocol: string, signal?: AbortSignal): Promise<Stream> {
    const node = this.requireNode();
    return node.dialProtocol(peerIdFromString(peerId), protocol, {
      signal: signal ?? AbortSignal.timeout(10_000),
      // Send the protocol name with the first message instead of waiting a round trip for the
      // peer's agreement: an inference's first token arrives that much sooner. A peer that does
      // not speak the protocol resets the stream, which the caller sees on its first read.
      negotiateFully: false,
    });
  }

  async connect(address: string, signal?: AbortSignal): Promise<void> {
    await this.requireNode().dial(multiaddr(address), { signal: signal ?? AbortSignal.timeout(10_000) });
  }

  addresses(): string[] {
    return this.node?.getMultiaddrs().map((a) => a.toString()) ?? [];
  }

  async removePeer(peerId: string): Promise<void> {
    const node = this.requireNode();
    const rotation = this.rotation as KeyRotationService;
    if (peerId === this.peerId) throw new CannotRemoveSelfError();
    if (this.state.outOfDate !== undefined) throw new MeshKeyOutOfDateError();
    if (this.removing.size > 0) throw new KeyRotationBusyError();
    this.removing.add(peerId);
    try {
      // Not redialled while the rotation runs; a failed rotation leaves it known, the tick redials it.
      await node.peerStore
        .merge(peerIdFromString(peerId), { tags: { [KEEP_ALIVE_TAG]: undefined } })
        .catch(() => undefined);
      await node.hangUp(peerIdFromString(peerId)).catch(() => undefined);
      this.markGone(peerId, 'removed');
      await rotation.issue(peerId);
    } finally {
      this.removing.delete(peerId);
    }
  }

  async join(key: Uint8Array): Promise<JoinOutcome> {
    const outcome = await applyJoin(this.init.dataDir, this.init.meshKeyFile, key);
    if (outcome === 'retired') throw new RetiredJoinCodeError();
    if (outcome === 'same' || !this.running) return outcome;
    this.state = await loadMeshState(this.init.dataDir);
    this.log.info({ event: 'mesh-joined', keyId: this.state.keyId }, 'joined a home with a code');
    await this.restartTransport(key);
    return outcome;
  }

  keyStatus(): MeshKeyStatus {
    const { epoch, outOfDate, current } = this.state;
    if (outOfDate !== undefined) {
      const issuer = outOfDate.issuer;
      const by = issuer === undefined ? '' : ` by ${this.peerStates.get(issuer)?.card?.name ?? issuer}`;
      return outOfDate.removed
        ? {
            state: 'removed',
            epoch,
            message: `this node was removed from the home${by}; it can come back only as a new node (a new data dir) with a fresh code`,
          }
        : {
            state: 'out-of-date',
            epoch,
            message: `mesh key out of date: the home rotated its key (epoch ${outOfDate.epoch}${by}) while this node was away; join again with a fresh code from \`allerac pair\` on a current node`,
          };
    }
    if (epoch === null)
      return {
        state: 'joining',
        epoch,
        message: 'joined with a code; learning the key epoch from the peers',
      };
    if (current === undefined) return { state: 'current', epoch };
    const { rotation } = current;
    return {
      state: 'current',
      epoch,
      lastRotation: {
        epoch: rotation.epoch,
        issuer: rotation.issuer,
        removed: rotation.blocked.at(-1),
        issuedAt: rotation.issuedAt,
      },
    };
  }

  // --- transport --------------------------------------------------------------------------

  private requireNode(): Libp2p<Services> {
    if (this.node === undefined) throw new Error('mesh not started');
    return this.node;
  }

  private async startNode(): Promise<void> {
    if (this.boundPort !== undefined && this.boundPort !== this.init.p2pPort) {
      try {
        await this.startNodeOn(this.boundPort);
        return;
      } catch (err) {
        this.log.warn(
          { event: 'mesh-port-taken', port: this.boundPort, err: String(err) },
          'previous port taken',
        );
        await Promise.resolve(this.node?.stop()).catch(() => undefined);
      }
    }
    await this.startNodeOn(this.init.p2pPort);
  }

  private async startNodeOn(port: number): Promise<void> {
    const denied = (peer: PeerId) => this.isDenied(peer.toString());
    const node = await createLibp2p<Services>({
      privateKey: this.privateKey,
      ...(this.datastore !== undefined ? { datastore: this.datastore } : {}),
      peerStore: { maxAddressAge: PEER_MEMORY_MS, maxPeerAge: PEER_MEMORY_MS },
      addresses: { listen: [`/ip4/${this.init.listenHost}/tcp/${port}`] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionProtector: preSharedKey({ psk: formatSwarmKey(this.meshKey as Uint8Array) }),
      connectionGater: {
        denyDialPeer: denied,
        denyInboundEncryptedConnection: denied,
        denyOutboundEncryptedConnection: denied,
        denyDialMultiaddr: () => false,
      },
      peerDiscovery:
        this.init.mdns === false
          ? []
          : [
              mdns({
                serviceTag: this.init.mdnsServiceTag ?? DEFAULT_MDNS_SERVICE_TAG,
                interval: this.init.mdnsIntervalMs ?? DEFAULT_MDNS_INTERVAL_MS,
              }),
            ],
      services: { identify: identify(), ping: ping() },
      // libp2p pings every connection (the RTT the card reports). It would also abort a connection
      // whose ping failed: on a busy mini-PC a late ping then cut answers mid-stream. Liveness is
      // the heartbeat's job here (a silent peer is hung up on), so a failed ping only goes unmeasured.
      connectionMonitor: { abortConnectionOnPingFailure: false },
      // libp2p's default (5 inbound connections a second per host) is meant for the public
      // internet; a home mesh restarting after a key rotation reconnects faster than that.
      connectionManager: {
        inboundConnectionThreshold: 50,
        reconnectRetries: REDIAL_ATTEMPTS,
        reconnectRetryInterval: REDIAL_FIRST_MS,
        reconnectBackoffFactor: 2,
      },
      start: false,
    });
    for (const [protocol, handler] of this.handlers) {
      await node.handle(protocol, this.wrap(protocol, handler), {
        maxInboundStreams: 1024,
        maxOutboundStreams: 1024,
      });
    }
    node.addEventListener('peer:connect', (evt) => this.onConnect(evt.detail.toString()));
    node.addEventListener('peer:disconnect', (evt) => this.onDisconnect(evt.detail.toString()));
    node.addEventListener('peer:discovery', (evt) => {
      void this.onDiscovery(evt.detail.id, evt.detail.multiaddrs.map(String));
    });
    this.node = node;
    await node.start();
    const bound = node
      .getMultiaddrs()[0]
      ?.getComponents()
      .find((c) => c.name === 'tcp')?.value;
    if (bound !== undefined) this.boundPort = Number(bound);
    for (const address of this.init.bootstrap ?? []) {
      void node.dial(multiaddr(address), { signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => {
        this.log.debug(
          { event: 'bootstrap-dial-failed', address, err: String(err) },
          'bootstrap dial failed',
        );
      });
    }
  }

  private async stopNode(): Promise<void> {
    const node = this.node;
    if (node === undefined) return;
    this.outbound.clear();
    await node.stop();
  }

  /** Reads the mesh state and squares it with the key file, which may have changed outside. */
  private async reconcileState(key: Uint8Array): Promise<MeshState> {
    const state = await loadMeshState(this.init.dataDir);
    const id = meshKeyId(key);
    if (state.keyId === id) return state;
    if (state.keyId === undefined) {
      // A home made before key ids were recorded, or a brand-new node: this key is the known one.
      state.keyId = id;
    } else if (state.retired.includes(id)) {
      // An old key put back (a copied file, a restored backup): the home has left it.
      this.log.warn({ event: 'mesh-key-retired', keyId: id }, 'the mesh key file holds a retired key');
      state.keyId = id;
      state.outOfDate ??= { removed: false, epoch: (state.epoch ?? 0) + 1, at: Date.now() };
    } else {
      // The key file was replaced by a new key (copied, or written by a join): its epoch is learnt anew.
      this.log.info(
        { event: 'mesh-key-changed', keyId: id },
        'the mesh key file changed; learning its epoch',
      );
      const { current: _c, outOfDate: _o, ...kept } = state;
      const joined: MeshState = { ...kept, epoch: null, keyId: id };
      await saveMeshState(this.init.dataDir, joined);
      return joined;
    }
    await saveMeshState(this.init.dataDir, state);
    return state;
  }

  private createRotation(): KeyRotationService {
    const mesh = this;
    return createKeyRotation({
      get self() {
        return mesh.peerId;
      },
      privateKey: this.privateKey as PrivateKey,
      log: this.log,
      state: () => this.state,
      members: () => this.members(),
      openStream: (peer, signal) => this.openStream(peer, KEY_PROTOCOL, signal),
      misbehave: (peer, reason, err) => this.misbehave(peer, reason, err),
      commit: (signed, newKey) => this.commitRotation(signed, newKey),
      markOutOfDate: (notice, notifier, removed) => this.markOutOfDate(notice, notifier, removed),
      caughtUp: async (epoch, current) => {
        const { current: _previous, ...rest } = this.state;
        this.state = {
          ...rest,
          epoch,
          blocked: [...(current?.rotation.blocked ?? [])],
          ...(current !== undefined ? { current } : {}),
        };
        this.forget(this.state.blocked);
        await saveMeshState(this.init.dataDir, this.state);
      },
    });
  }

  /** Drops what we know of removed peers, on disk too, and hangs up on them. */
  private forget(blocked: readonly string[]): void {
    const node = this.node;
    for (const b of blocked) {
      this.peerStates.delete(b);
      this.known.delete(b);
      if (node === undefined) continue;
      const id = peerIdFromString(b);
      // Deleted before the hang-up, so libp2p's reconnect queue finds no KEEP_ALIVE tag.
      void node.peerStore
        .delete(id)
        .catch(() => undefined)
        .then(() => node.hangUp(id))
        .catch(() => undefined);
    }
  }

  /** Members: connected and online peers with a verified card on this key, not blocked. */
  private members(): string[] {
    const node = this.node;
    if (node === undefined) return [];
    return [...this.peerStates.values()]
      .filter(
        (p) =>
          p.card !== undefined &&
          p.status === 'online' &&
          !this.isDenied(p.id) &&
          node.getConnections(peerIdFromString(p.id)).length > 0,
      )
      .map((p) => p.id);
  }

  /** Adopts a corroborated rotation: the old key is retired, the new one written, the transport restarted. */
  private async commitRotation(signed: SignedKeyRotation, newKey: Uint8Array): Promise<void> {
    const old = this.meshKey as Uint8Array;
    const { rotation } = signed;
    await addRetiredKey(this.init.dataDir, { key: old, retiredBy: signed });
    this.state = {
      ...this.state,
      epoch: rotation.epoch,
      blocked: [...rotation.blocked],
      keyId: rotation.keyId,
      current: signed,
      retired: [...this.state.retired, meshKeyId(old)],
    };
    this.forget(rotation.blocked);
    // The key file first: a crash before the state is written leaves a key file the state does not
    // know, which the next start treats like a join; the other order would look like a retired key.
    await writeMeshKey(this.init.meshKeyFile, newKey);
    await saveMeshState(this.init.dataDir, this.state);
    await this.restartTransport(newKey);
  }

  /** The home retired our key while we were away: talk to nobody on it any more. */
  private async markOutOfDate(notice: SignedKeyRotation, notifier: string, removed: boolean): Promise<void> {
    const { rotation } = notice;
    const next: MeshState = {
      ...this.state,
      blocked: [...new Set([...this.state.blocked, ...rotation.blocked.filter((b) => b !== this.peerId)])],
      retired:
        this.state.keyId === undefined ? this.state.retired : [...this.state.retired, this.state.keyId],
      outOfDate: { removed, epoch: rotation.epoch, issuer: rotation.issuer, notifier, at: Date.now() },
    };
    // On disk first: a join asked for as soon as the status says "out of date" must see it too.
    await saveMeshState(this.init.dataDir, next);
    this.state = next;
    this.warnIfOutOfDate();
    const node = this.node;
    if (node === undefined) return;
    for (const peer of new Set(node.getConnections().map((c) => c.remotePeer.toString()))) {
      this.markGone(peer, 'mesh-key-out-of-date');
      // The notifier hangs up by itself once our ack is through; every other peer is cut now.
      if (peer !== notifier) void node.hangUp(peerIdFromString(peer)).catch(() => undefined);
    }
  }

  private warnIfOutOfDate(): void {
    const status = this.keyStatus();
    if (status.state !== 'out-of-date' && status.state !== 'removed') return;
    this.log.warn({ event: 'mesh-key-out-of-date', state: status.state }, status.message);
  }

  /**
   * Restarts libp2p with `key`, keeping the port; the new transport shares the peer store on disk,
   * so it redials the known peers without discovery.
   */
  private async restartTransport(key: Uint8Array): Promise<void> {
    this.lifecycle = this.lifecycle.then(async () => {
      if (!this.running) return;
      this.meshKey = key;
      this.rotation?.reset();
      this.dialFailures.clear();
      await this.stopNode();
      await this.startNode();
      // Every known peer is dialled on the new key, even one that left: it may be back on the old
      // key, and that dial is what tells it so (noticeIfStale).
      const node = this.requireNode();
      for (const peer of this.known) {
        const state = this.peerStates.get(peer);
        if (state !== undefined) state.left = false;
        void this.dialKnown(node, peer, 'transport-restarted');
      }
      this.log.info(
        { event: 'mesh-transport-restarted', epoch: this.state.epoch, addresses: this.addresses() },
        'transport restarted',
      );
    });
    await this.lifecycle;
  }

  private async peerAddresses(peer: string): Promise<Multiaddr[]> {
    const found = await this.node?.peerStore.get(peerIdFromString(peer)).catch(() => undefined);
    return found?.addresses.map((a) => a.multiaddr) ?? [];
  }

  /** Wraps a handler with the deny list, flood detection and per-peer concurrency limits. */
  private wrap(protocol: string, handler: MeshStreamHandler) {
    return (stream: Stream, connection: Connection) => {
      const peer = connection.remotePeer.toString();
      if (this.isDenied(peer)) {
        stream.abort(new Error('peer is blocked or backed off'));
        return;
      }
      const now = Date.now();
      const isInfer = protocol === INFER_PROTOCOL;
      const key = isInfer ? `${peer} infer` : peer;
      const opens = (this.streamOpens.get(key) ?? []).filter((t) => now - t < STREAM_FLOOD_WINDOW_MS);
      opens.push(now);
      this.streamOpens.set(key, opens);
      if (opens.length > (isInfer ? MAX_INFER_OPENS_PER_WINDOW : MAX_STREAM_OPENS_PER_WINDOW)) {
        stream.abort(new Error('stream flood'));
        this.misbehave(
          peer,
          'stream-flood',
          new Error(`${opens.length} streams in ${STREAM_FLOOD_WINDOW_MS} ms`),
        );
        return;
      }
      const slot = `${peer} ${protocol}`;
      const limit = MAX_INBOUND_STREAMS[protocol as ProtocolId] ?? 32;
      const active = this.concurrent.get(slot) ?? 0;
      if (active >= limit) {
        stream.abort(new Error('too many concurrent streams'));
        return;
      }
      this.concurrent.set(slot, active + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const n = (this.concurrent.get(slot) ?? 1) - 1;
        if (n <= 0) this.concurrent.delete(slot);
        else this.concurrent.set(slot, n);
      };
      stream.addEventListener('close', release, { once: true });
      Promise.resolve()
        .then(() => handler(stream, peer))
        .catch((err: unknown) => {
          this.log.warn(
            { event: 'stream-handler-failed', protocol, peer, err: String(err) },
            'stream handler failed',
          );
          stream.abort(err instanceof Error ? err : new Error(String(err)));
        });
    };
  }

  private isDenied(peer: string): boolean {
    // Out of date, this node's key is one that removed nodes may still hold: it talks to nobody.
    if (this.state.outOfDate !== undefined) return true;
    if (this.state.blocked.includes(peer) || this.removing.has(peer)) return true;
    const b = this.backoff.get(peer);
    return b !== undefined && b.until > Date.now();
  }

  /** Cuts a misbehaving peer off and backs it off, doubling the back-off on each repeat. */
  private misbehave(peer: string, reason: string, err: unknown): void {
    const previous = this.backoff.get(peer);
    const strikes = (previous?.strikes ?? 0) + 1;
    const backoffMs = Math.min(MAX_MISBEHAVIOUR_BACKOFF_MS, MISBEHAVIOUR_BACKOFF_MS * 2 ** (strikes - 1));
    this.backoff.set(peer, { until: Date.now() + backoffMs, strikes });
    this.log.warn(
      {
        event: 'peer-misbehaved',
        peer,
        reason,
        error: err instanceof Error ? err.name : 'unknown',
        detail: err instanceof Error ? err.message : String(err),
        backoffMs,
        strikes,
      },
      'peer cut off',
    );
    this.markGone(peer, reason);
    void this.node?.hangUp(peerIdFromString(peer)).catch(() => undefined);
  }

  // --- discovery and connections ------------------------------------------------------------

  private async onDiscovery(id: PeerId, addresses: string[]): Promise<void> {
    const peer = id.toString();
    const node = this.node;
    if (node === undefined || !this.running || this.isDenied(peer)) return;
    const state = this.peerStates.get(peer);
    if (state !== undefined) state.left = false;
    this.known.add(peer);
    await this.dialKnown(node, peer, 'discovery', addresses);
  }

  /** Dials a peer unless connected, already dialling or backing off after a failed dial. */
  private async dialKnown(node: Libp2p<Services>, peer: string, reason: string, addresses?: string[]) {
    const id = peerIdFromString(peer);
    if (this.dialing.has(peer) || node.getConnections(id).length > 0) return;
    const failed = this.dialFailures.get(peer);
    if (failed !== undefined && Date.now() - failed.at < dialBackoffMs(failed.count)) return;
    this.dialing.add(peer);
    try {
      await node.dial(id, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
      this.dialFailures.delete(peer);
    } catch (err) {
      const count = (this.dialFailures.get(peer)?.count ?? 0) + 1;
      this.dialFailures.set(peer, { at: Date.now(), count });
      if (reachedHost(err)) void this.noticeIfStale(peer);
      this.log.debug(
        {
          event: 'dial-failed',
          peer,
          reason,
          failures: count,
          addresses,
          err: String(err),
          causes: err instanceof AggregateError ? err.errors.map(String) : undefined,
        },
        'dial failed',
      );
    } finally {
      this.dialing.delete(peer);
    }
  }

  /**
   * A known peer we cannot reach on the current key may still be on a retired one (it was away
   * during a rotation): tell it, so it stops serving as a way back in for a removed node.
   */
  private async noticeIfStale(peer: string): Promise<void> {
    if (this.notifier === undefined || this.isDenied(peer) || this.state.retired.length === 0) return;
    if ((await loadRetiredKeys(this.init.dataDir)).length === 0) return;
    await this.notifier.notify(peer, await this.peerAddresses(peer));
  }

  private onConnect(peer: string): void {
    this.dialFailures.delete(peer);
    this.known.add(peer);
    void this.openCardStream(peer);
  }

  private onDisconnect(peer: string): void {
    this.outbound.delete(peer);
    // The redial is libp2p's reconnect queue (KEEP_ALIVE_TAG), then the tick.
    this.markGone(peer, 'disconnected');
  }

  /**
   * Tags a peer whose card verified, in the peer store on disk: libp2p redials it at every start
   * and after drops (KEEP_ALIVE), and the next start of this mesh knows it (PAIRED_TAG).
   */
  private async rememberPeer(peer: string): Promise<void> {
    if (this.isDenied(peer)) return;
    const tag = { value: 100 };
    await this.node?.peerStore
      .merge(peerIdFromString(peer), { tags: { [PAIRED_TAG]: tag, [KEEP_ALIVE_TAG]: tag } })
      .catch((err: unknown) => this.log.debug({ event: 'peer-remember-failed', peer, err: String(err) }));
  }

  /**
   * Puts the paired peers of the peer store into `known`, so the tick redials them beyond libp2p's
   * bounded reconnect attempts, and drops blocked ones (a block learnt while the store was closed).
   */
  private async recallPeers(): Promise<void> {
    const node = this.requireNode();
    for (const blocked of this.state.blocked)
      await node.peerStore.delete(peerIdFromString(blocked)).catch(() => undefined);
    const paired = await node.peerStore
      .all({ filters: [(p) => p.tags.has(PAIRED_TAG)] })
      .catch((err: unknown) => {
        this.log.warn({ event: 'peer-store-unreadable', err: String(err) }, 'could not read the peer store');
        return [];
      });
    const peers = paired.map((p) => p.id.toString()).filter((p) => !this.isDenied(p));
    for (const peer of peers) this.known.add(peer);
    this.log.info({ event: 'peers-remembered', peers }, 'peers remembered');
  }

  // --- cards ---------------------------------------------------------------------------------

  private async buildCard(seq: number): Promise<NodeCard> {
    const [hardware, local] = await Promise.all([this.hardware(), this.components.cardSource()]);
    return {
      name: this.init.name,
      peerId: this.peerId,
      softwareVersion: this.init.softwareVersion,
      protocolVersion: PROTOCOL_VERSION,
      hardware: coarseHardware(hardware),
      backend: local.backend,
      models: local.models,
      load: local.load,
      specializations: this.init.specializations,
      issuedAt: Date.now(),
      seq,
    };
  }

  private async currentCard(): Promise<CardMessage> {
    if (this.current === undefined) {
      const card = await this.buildCard(++this.seq);
      this.current = (await signedCardMessage('card', card, this.privateKey as PrivateKey)) as CardMessage;
    }
    return this.current;
  }

  private async publish(): Promise<void> {
    if (!this.running) return;
    const previous = await this.currentCard();
    const card = await this.buildCard(this.seq + 1);
    const strip = ({ issuedAt: _i, seq: _s, ...rest }: NodeCard) => JSON.stringify(rest);
    if (strip(card) === strip(previous.card)) return;
    this.seq = card.seq;
    this.current = (await signedCardMessage('card', card, this.privateKey as PrivateKey)) as CardMessage;
    this.lastPublishedAt = Date.now();
    this.safeDispatchEvent('self:update', { detail: card });
    const update: CardUpdateMessage = { ...this.current, type: 'card-update' };
    await Promise.allSettled([...this.outbound.entries()].map(([peer, s]) => this.send(peer, s, update)));
  }

  private async openCardStream(peer: string): Promise<void> {
    const node = this.node;
    if (node === undefined || this.outbound.has(peer)) return;
    const openingSince = this.opening.get(peer);
    if (openingSince !== undefined && Date.now() - openingSince < OPENING_STALE_MS) return;
    const started = Date.now();
    this.opening.set(peer, started);
    try {
      const stream = await node.dialProtocol(peerIdFromString(peer), CARD_PROTOCOL, {
        signal: AbortSignal.timeout(10_000),
      });
      const framed = new FramedStream(stream, { protocol: CARD_PROTOCOL });
      await framed.write(await this.currentCard(), { signal: AbortSignal.timeout(10_000) });
      if (this.node !== node) {
        stream.abort(new Error('transport restarted'));
        return;
      }
      this.outbound.set(peer, framed);
      stream.addEventListener(
        'close',
        () => {
          if (this.outbound.get(peer) === framed) this.outbound.delete(peer);
        },
        { once: true },
      );
    } catch (err) {
      this.log.debug({ event: 'card-stream-failed', peer, err: String(err) }, 'could not open card stream');
    } finally {
      if (this.opening.get(peer) === started) this.opening.delete(peer);
    }
  }

  private async send(peer: string, stream: FramedStream, message: Parameters<FramedStream['write']>[0]) {
    try {
      await stream.write(message, { signal: AbortSignal.timeout(5_000) });
    } catch (err) {
      if (this.outbound.get(peer) === stream) this.outbound.delete(peer);
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async sendLeave(reason: string): Promise<void> {
    const streams = [...this.outbound.entries()];
    await Promise.allSettled(
      streams.map(async ([peer, s]) => {
        await this.send(peer, s, { type: 'leave', reason });
        await s.close({ signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      }),
    );
  }

  private async onCardStream(stream: Stream, peer: string): Promise<void> {
    const framed = new FramedStream(stream, { protocol: CARD_PROTOCOL });
    try {
      const first = await framed.read();
      if (first === undefined) return;
      if (first.type !== 'card')
        throw new UnexpectedMessageError(`first card-stream frame was ${first.type}`);
      await this.acceptCard(peer, first, true);
      for (;;) {
        const message = await framed.read();
        if (message === undefined) return;
        if (message.type === 'card-update') await this.acceptCard(peer, message, false);
        else if (message.type === 'heartbeat') this.touch(peer);
        else if (message.type === 'leave') {
          const state = this.peerStates.get(peer);
          if (state !== undefined) state.left = true;
          this.markGone(peer, `leave: ${message.reason ?? ''}`);
          return;
        } else throw new UnexpectedMessageError(`unexpected ${message.type} on an open card stream`);
      }
    } catch (err) {
      if (err instanceof ProtocolError && !(err instanceof FrameTimeoutError && this.peerStates.has(peer))) {
        this.misbehave(peer, 'card-stream', err);
      }
      framed.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async acceptCard(
    peer: string,
    message: CardMessage | CardUpdateMessage,
    first: boolean,
  ): Promise<void> {
    const card = await verifyCardMessage(message, peer, PROTOCOL_VERSION);
    let state = this.peerStates.get(peer);
    if (state !== undefined && !first && state.card !== undefined && card.seq <= state.card.seq) return;
    const wasOnline = state?.status === 'online' && state.card !== undefined;
    if (state === undefined) {
      state = { id: peer, status: 'online', lastSeen: Date.now(), left: false };
      this.peerStates.set(peer, state);
    }
    state.card = card;
    state.status = 'online';
    state.left = false;
    state.lastSeen = Date.now();
    this.emit(wasOnline ? 'peer:update' : 'peer:join', state);
    if (!wasOnline) {
      this.log.info({ event: 'peer-joined', peer, name: card.name }, 'peer joined');
      void this.rememberPeer(peer);
      if (!this.outbound.has(peer)) void this.openCardStream(peer);
      void this.rotation?.catchUp(peer);
    }
  }

  private touch(peer: string): void {
    const state = this.peerStates.get(peer);
    if (state === undefined || state.card === undefined) return;
    state.lastSeen = Date.now();
    if (state.status === 'gone' && !state.left) {
      state.status = 'online';
      this.log.info({ event: 'peer-returned', peer }, 'peer heard from again');
      this.emit('peer:join', state);
    }
  }

  private markGone(peer: string, reason: string): void {
    const state = this.peerStates.get(peer);
    if (state === undefined || state.status === 'gone') return;
    state.status = 'gone';
    this.log.info({ event: 'peer-gone', peer, name: state.card?.name, reason }, 'peer gone');
    this.emit('peer:leave', state);
  }

  private onTick(): void {
    const node = this.node;
    if (node === undefined || !this.running) return;
    this.tick++;
    const heartbeat = { type: 'heartbeat' as const, seq: this.tick, sentAt: Date.now() };
    for (const [peer, s] of this.outbound) void this.send(peer, s, heartbeat);
    const now = Date.now();
    // When this process itself was starved (a busy mini-PC), peers' heartbeats may be waiting
    // unread in our buffers: silence is then measured against our own lateness too, so a loaded
    // node does not declare healthy peers gone and make the mesh flap.
    const lag = this.lastTickAt === undefined ? 0 : Math.max(0, now - this.lastTickAt - this.heartbeatMs);
    this.lastTickAt = now;
    this.recentLag = Math.max(lag, this.recentLag * 0.8);
    const silenceAllowed = this.heartbeatMs * HEARTBEAT_MISS_THRESHOLD + this.recentLag;
    for (const state of this.peerStates.values()) {
      const silent = now - state.lastSeen;
      if (state.status === 'online' && silent > silenceAllowed) {
        this.markGone(state.id, 'heartbeat-timeout');
      }
      const id = peerIdFromString(state.id);
      const connected = node.getConnections(id).length > 0;
      if (connected && silent > SILENT_HANGUP_MS && !state.left) {
        void node.hangUp(id).catch(() => undefined);
      } else if (connected && !this.outbound.has(state.id)) {
        void this.openCardStream(state.id);
      }
      // libp2p's connection monitor pings every connection; its RTT is the one we report.
      const rtt = connected ? node.getConnections(id).find((c) => c.rtt !== undefined)?.rtt : undefined;
      if (rtt !== undefined) state.rttMs = rtt;
    }
    for (const conn of node.getConnections()) {
      const peer = conn.remotePeer.toString();
      if (!this.outbound.has(peer) && !this.peerStates.has(peer)) void this.openCardStream(peer);
    }
    // Never give up on a peer that is reachable and not blocked: discovery fires once per peer and
    // the redial budget after a disconnect is bounded, so the tick redials whatever is missing
    // (paced by the dial back-off). A gracefully left peer gets only libp2p's reconnect attempts;
    // past those it comes back by dialling us from its own peer store, or by discovery.
    for (const peer of this.known) {
      if (this.isDenied(peer) || this.peerStates.get(peer)?.left === true) continue;
      void this.dialKnown(node, peer, 'tick');
    }
  }

  // --- views and events ----------------------------------------------------------------------

  /** Display names of every peer with a card, unique against each other and this node. */
  private names() {
    const published = new Map<string, string>();
    for (const p of this.peerStates.values()) if (p.card !== undefined) published.set(p.id, p.card.name);
    return displayNames(this.init.name, published);
  }

  private view(state: PeerState, names = this.names()): PeerView | undefined {
    if (state.card === undefined) return undefined;
    const addresses =
      this.node?.getConnections(peerIdFromString(state.id)).map((c) => c.remoteAddr.toString()) ?? [];
    const display = names.get(state.id);
    return {
      id: state.id,
      name: display?.name ?? state.card.name,
      nameClash: display?.clash ?? false,
      status: state.status,
      card: state.card,
      lastSeen: state.lastSeen,
      ...(state.rttMs !== undefined ? { rttMs: state.rttMs } : {}),
      addresses,
    };
  }

  private emit(event: 'peer:join' | 'peer:update' | 'peer:leave', state: PeerState): void {
    const view = this.view(state);
    if (view !== undefined) this.safeDispatchEvent(event, { detail: view });
  }
}

/**
 * Whether a failed dial got as far as the other host: a refused, unreachable or timed-out TCP
 * connect means it is down, whereas a handshake that breaks off is what a peer on another key gives.
 */
function reachedHost(err: unknown): boolean {
  const causes = err instanceof AggregateError ? err.errors : [err];
  const down = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EADDRNOTAVAIL|TimeoutError|aborted/i;
  return causes.some((cause) => !down.test(`${(cause as Error)?.name ?? ''} ${String(cause)}`));
}

/** Back-off after `failures` failed dials: DIAL_FAILURE_BACKOFF_MS doubling, capped. */
function dialBackoffMs(failures: number): number {
  return Math.min(DIAL_FAILURE_BACKOFF_MAX_MS, DIAL_FAILURE_BACKOFF_MS * 2 ** Math.max(0, failures - 1));
}

/**
 * Free memory and disk move by a few bytes every second; published at that precision they would
 * make every card differ and flood the mesh with updates. 64 MiB steps are finer than any model.
 */
const CARD_MEMORY_STEP = 64 * 1024 * 1024;

function coarse(bytes: number): number {
  return Math.floor(bytes / CARD_MEMORY_STEP) * CARD_MEMORY_STEP;
}

function coarseHardware(hardware: HardwareInfo): HardwareInfo {
  return {
    ...hardware,
    ramFree: coarse(hardware.ramFree),
    diskFree: coarse(hardware.diskFree),
    ...(hardware.swapFree !== undefined ? { swapFree: coarse(hardware.swapFree) } : {}),
    gpus: hardware.gpus.map((gpu) => ({ ...gpu, vramFree: coarse(gpu.vramFree) })),
  };
}
