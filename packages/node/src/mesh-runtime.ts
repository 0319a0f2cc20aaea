import type { HardwareInfo } from '@allerac/protocol';
import { INFER_PROTOCOL } from '@allerac/protocol';
import { TypedEventEmitter } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { Backend } from './backend/backend.js';
import { createInferHandler } from './inference/infer-service.js';
import type { LocalLoad } from './inference/local-load.js';
import type { LocalModels } from './inference/local-models.js';
import {
  applyJoin,
  createJoinCode,
  createMesh,
  loadOrCreateMeshKey,
  type Mesh,
  type MeshEvents,
  type MeshKeyStatus,
  type MeshStreamHandler,
  type PeerView,
  parseJoinCode,
  RetiredJoinCodeError,
} from './mesh/index.js';
import { SOFTWARE_VERSION } from './version.js';

/** Settings of the node's mesh. */
export interface MeshRuntimeInit {
  name: string;
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

  constructor(
    private readonly init: MeshRuntimeInit,
    private readonly components: MeshRuntimeComponents,
  ) {
    super();
    this.handlers.set(
      INFER_PROTOCOL,
      createInferHandler({
        backend: components.backend,
        load: components.load,
        logger: components.logger.child({ component: 'infer' }),
      }),
    );
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
        name: this.init.name,
        dataDir: this.init.dataDir,
        meshKeyFile: this.init.meshKeyFile,
        listenHost: this.init.p2pHost,
        p2pPort: this.init.p2pPort,
        specializations: this.init.specializations(),
        softwareVersion: SOFTWARE_VERSION,
        mdns: this.init.mdns,
        bootstrap: this.init.bootstrap,
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

  /** The peers this node sees, for the management API. */
  peers(): PeerSummary[] {
    return (this.current?.peers() ?? []).map(summarize);
  }

  /** The join code of this home's mesh key, for `allerac pair` and the UI. */
  async joinCode(): Promise<string> {
    return createJoinCode(await loadOrCreateMeshKey(this.init.meshKeyFile));
  }

  /**
   * Adopts another home's mesh key from a join code; the running mesh restarts its transport with
   * it. A code for the key already in use changes nothing. A code for a key the home has retired
   * throws RetiredJoinCodeError, except before start (a `--join` left in a service file), where it
   * is ignored with a warning so the node keeps its current key.
   */
  async join(code: string): Promise<void> {
    const key = parseJoinCode(code);
    if (this.current !== undefined) {
      await this.current.join(key);
      return;
    }
    const outcome = await applyJoin(this.init.dataDir, this.init.meshKeyFile, key);
    if (outcome === 'retired') {
      this.components.logger.warn(
        { event: 'join-code-out-of-date', err: new RetiredJoinCodeError().message },
        'ignoring --join: it names a mesh key this home has retired; keeping the current key',
      );
    } else if (outcome === 'joined') {
      this.components.logger.info({ event: 'mesh-joined' }, 'adopted a new mesh key from a join code');
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
