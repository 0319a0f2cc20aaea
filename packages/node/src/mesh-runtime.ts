import {
  applyJoin,
  createMesh,
  joinedWith,
  LegacyJoinCodeError,
  loadOrCreateMeshKey,
  type Mesh,
  type MeshComponents,
  type MeshEvents,
  type MeshInit,
  type MeshKeyStatus,
  type MeshStreamHandler,
  type OpenedInvitation,
  PairingService,
  type PeerView,
  parseInvitationCode,
  RetiredJoinCodeError,
  recordJoined,
  type Welcome,
} from '@allerac/mesh';
import type { HardwareInfo, NodeCard } from '@allerac/protocol';
import { INFER_CHANNEL_PROTOCOL, INFER_PROTOCOL } from '@allerac/protocol';
import { TypedEventEmitter } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { Backend } from './backend/backend.js';
import { UnavailableError } from './errors.js';
import { createInferChannelHandler } from './inference/infer-channel-server.js';
import { createInferHandler } from './inference/infer-service.js';
import type { LocalLoad } from './inference/local-load.js';
import type { LocalModels } from './inference/local-models.js';
import { createSystemProbe } from './system/hardware.js';
import { SOFTWARE_VERSION } from './version.js';

/** A mesh whose cards read this machine's system probe unless the caller brings its own. */
export function createNodeMesh(
  init: MeshInit,
  components: Omit<MeshComponents, 'hardware'> & Partial<Pick<MeshComponents, 'hardware'>>,
): Mesh {
  const hardware = components.hardware ?? createSystemProbe({ dataDir: init.dataDir }).hardware;
  return createMesh(init, { ...components, hardware });
}

/** Settings of the node's mesh. */
export interface MeshRuntimeInit {
  /** The agent's current name (it may change while the mesh runs: see identityChanged). */
  name: () => string;
  dataDir: string;
  meshKeyFile: string;
  p2pHost: string;
  p2pPort: number;
  mdns: boolean;
  bootstrap: string[];
  specializations: () => string[];
}

/** What the mesh runtime reads to build this node's card and serve peers. */
export interface MeshRuntimeComponents {
  backend: Backend;
  localModels: LocalModels;
  load: LocalLoad;
  hardware: () => Promise<HardwareInfo>;
  logger: Logger;
  /** This machine's MACs and wake flags for the card (wake/local-wake-card.ts). */
  wakeCard?: () => Pick<NodeCard, 'macs' | 'wakeOnLan' | 'preferredWhenOn'>;
}

/** Events of the runtime: the current mesh's events, whichever mesh that is, and its starts. */
export interface MeshRuntimeEvents extends MeshEvents {
  /** The mesh started; its handlers and the runtime's forwarding are in place. */
  'mesh:start': CustomEvent<Mesh>;
}

/** The mesh's events that the runtime passes on. */
const FORWARDED = ['peer:join', 'peer:update', 'peer:leave', 'self:update'] as const;

/** One peer as the management API shows it. */
export interface PeerSummary {
  id: string;
  /** Unique among the peers and this node: a clashing name gets a short suffix of the id. */
  name: string;
  /** True when another node publishes the same name; the UI then asks for a rename. */
  nameClash: boolean;
  status: 'online' | 'gone';
  version: string;
  models: string[];
  loadedModels: string[];
  hardware: PeerView['card']['hardware'];
  backend: PeerView['card']['backend'];
  load: PeerView['card']['load'];
  specializations: string[];
  lastSeen: string;
  rttMs: number | null;
  addresses: string[];
}

/**
 * The node's life in the mesh: it builds the libp2p mesh from the node's settings, publishes the
 * card (backend, models, load), serves inference to peers, adopts join codes, and keeps protocol
 * handlers across a restart of the mesh. Listeners subscribe to the runtime, whose events
 * (MeshRuntimeEvents) come from whichever mesh is running.
 */
export class MeshRuntime extends TypedEventEmitter<MeshRuntimeEvents> {
  private current: Mesh | undefined;
  private readonly handlers = new Map<string, MeshStreamHandler>();
  private readonly pairing: PairingService;
  /** The inviter's addresses after a join before start: dialled at start, so no mDNS is needed. */
  private inviterAddresses: string[] = [];

  constructor(
    private readonly init: MeshRuntimeInit,
    private readonly components: MeshRuntimeComponents,
  ) {
    super();
    this.pairing = new PairingService(
      { listenHost: init.p2pHost, p2pPort: init.p2pPort },
      {
        logger: components.logger.child({ component: 'pairing' }),
        welcome: async () => ({
          meshKey: Buffer.from(await loadOrCreateMeshKey(init.meshKeyFile)).toString('base64'),
          peerId: this.mesh.peerId,
          addresses: this.mesh.addresses().slice(0, 16),
          name: init.name(),
        }),
      },
    );
    const infer = {
      backend: components.backend,
      load: components.load,
      logger: components.logger.child({ component: 'infer' }),
    };
    // Version 1 stays served for one release, for peers that have not updated yet.
    this.handlers.set(INFER_PROTOCOL, createInferHandler(infer));
    this.handlers.set(INFER_CHANNEL_PROTOCOL, createInferChannelHandler(infer));
  }

  /** The running mesh; throws before start. */
  get mesh(): Mesh {
    if (this.current === undefined) throw new Error('the mesh is not running');
    return this.current;
  }

  /** Starts the mesh (creating the mesh key if this is the home's first node). */
  async start(): Promise<Mesh> {
    if (this.current !== undefined) return this.current;
    await loadOrCreateMeshKey(this.init.meshKeyFile);
    const mesh = createMesh(
      {
        name: this.init.name(),
        dataDir: this.init.dataDir,
        meshKeyFile: this.init.meshKeyFile,
        listenHost: this.init.p2pHost,
        p2pPort: this.init.p2pPort,
        specializations: this.init.specializations(),
        softwareVersion: SOFTWARE_VERSION,
        mdns: this.init.mdns,
        bootstrap: [...this.init.bootstrap, ...this.inviterAddresses],
      },
      {
        logger: this.components.logger,
        hardware: this.components.hardware,
        cardSource: async () => {
          const health = this.components.backend.health();
          return {
            backend: {
              state: health.state === 'up' ? 'up' : 'down',
              url: health.url,
              ...(health.version !== undefined ? { version: health.version } : {}),
            },
            models: await this.components.localModels.list(),
            load: this.components.load.snapshot(),
            ...(this.components.wakeCard !== undefined ? { wake: this.components.wakeCard() } : {}),
          };
        },
      },
    );
    for (const [protocol, handler] of this.handlers) mesh.handle(protocol, handler);
    for (const type of FORWARDED) {
      mesh.addEventListener(type, (evt) => this.safeDispatchEvent(type, { detail: evt.detail }));
    }
    await mesh.start();
    this.current = mesh;
    this.safeDispatchEvent('mesh:start', { detail: mesh });
    return mesh;
  }

  /** Sends `leave` to the peers and stops; idempotent. */
  async stop(): Promise<void> {
    const mesh = this.current;
    this.current = undefined;
    await this.pairing.stop();
    await mesh?.stop();
  }

  /** Registers a protocol handler that survives mesh restarts. */
  handle(protocol: string, handler: MeshStreamHandler): void {
    this.handlers.set(protocol, handler);
    this.current?.handle(protocol, handler);
  }

  /** Asks the mesh to publish a fresh card (throttled by the mesh). */
  cardChanged(): void {
    this.current?.cardChanged();
  }

  /** Re-publishes the card with the current name and specialisations (a rename, the wizard). */
  identityChanged(): void {
    this.current?.setIdentity({ name: this.init.name(), specializations: this.init.specializations() });
  }

  /** The peers this node sees, for the management API. */
  peers(): PeerSummary[] {
    return (this.current?.peers() ?? []).map(summarize);
  }

  /** Opens an invitation for another machine (a short-lived code, docs/protocol.md "Invitations"). */
  async invite(): Promise<OpenedInvitation> {
    if (this.current === undefined) throw new UnavailableError('the mesh is not running yet', 5);
    return this.pairing.invite();
  }

  /**
   * Joins the home of the node that made `code`: runs the pairing exchange with it, adopts the
   * mesh key it sends (the running mesh swaps it in with `setKey`, restarting only its transport) and dials it. Throws JoinCodeError for a
   * code that cannot be read, InvitationRefusedError or InviterUnreachableError when the inviter
   * says no or does not answer, RetiredJoinCodeError when its key is one this node knows retired.
   */
  async join(code: string): Promise<Welcome> {
    const welcome = await this.pairing.redeem(code);
    const key = Uint8Array.from(Buffer.from(welcome.meshKey, 'base64'));
    const running = this.current;
    if (running !== undefined) {
      await running.join(key);
    } else {
      if ((await applyJoin(this.init.dataDir, this.init.meshKeyFile, key)) === 'retired')
        throw new RetiredJoinCodeError();
      this.inviterAddresses = welcome.addresses;
    }
    await recordJoined(this.init.dataDir, parseInvitationCode(code).secret);
    this.components.logger.info(
      { event: 'mesh-joined', inviter: welcome.peerId, inviterName: welcome.name },
      'joined a home with an invitation',
    );
    if (running !== undefined && this.current === running) await this.dialInviter(running, welcome);
    return welcome;
  }

  /**
   * `--join CODE` at start. The code may be one this node already used (an ALLERAC_JOIN kept in a
   * service file comes back at every start) or of the old format: both are ignored with a log
   * line, keeping the current key. Any other failure stops the start with its reason.
   */
  async joinAtStart(code: string): Promise<void> {
    let secret: Uint8Array;
    try {
      secret = parseInvitationCode(code).secret;
    } catch (error) {
      if (!(error instanceof LegacyJoinCodeError)) throw error;
      this.components.logger.warn(
        { event: 'join-code-legacy', err: error.message },
        'ignoring --join: an old-style code; keeping the current mesh key',
      );
      return;
    }
    if (await joinedWith(this.init.dataDir, secret)) {
      this.components.logger.info(
        { event: 'join-code-used' },
        'ignoring --join: this node already joined with it',
      );
      return;
    }
    await this.join(code);
  }

  private async dialInviter(mesh: Mesh, welcome: Welcome): Promise<void> {
    try {
      await Promise.any(welcome.addresses.map((address) => mesh.connect(address)));
    } catch (error) {
      // mDNS, or the inviter dialling back on its known addresses, may still bring the two together.
      this.components.logger.warn(
        { event: 'inviter-dial-failed', inviter: welcome.peerId, err: String(error) },
        'could not dial the inviting node yet',
      );
    }
  }

  /** Removes a peer: the admin action that rotates the mesh key across the others. */
  async removePeer(peerId: string): Promise<void> {
    await this.mesh.removePeer(peerId);
  }

  /** Where this node stands with the home's key, with who rotated it last. */
  keyStatus(): MeshKeyStatus | undefined {
    return this.current?.keyStatus();
  }

  /**
   * The key status for the public `/health`: the state and epoch only, since any LAN host may
   * read it; who removed whom stays behind the token (logs, `keyStatus`).
   */
  healthStatus(): { state: MeshKeyStatus['state'] | 'stopped'; epoch: number | null } {
    const status = this.current?.keyStatus();
    return status === undefined
      ? { state: 'stopped', epoch: null }
      : { state: status.state, epoch: status.epoch };
  }
}

function summarize(peer: PeerView): PeerSummary {
  return {
    id: peer.id,
    name: peer.name,
    nameClash: peer.nameClash,
    status: peer.status,
    version: peer.card.softwareVersion,
    models: peer.card.models.map((m) => m.name),
    loadedModels: peer.card.models.filter((m) => m.loaded).map((m) => m.name),
    hardware: peer.card.hardware,
    backend: peer.card.backend,
    load: peer.card.load,
    specializations: peer.card.specializations,
    lastSeen: new Date(peer.lastSeen).toISOString(),
    rttMs: peer.rttMs ?? null,
    addresses: peer.addresses,
  };
}
