/**
 * The composition root: `createNode` builds a node from its configuration and the parts a caller
 * may inject, and the node's `start`/`stop` run and end it. The daemon (`allerac start`), the
 * test helpers and the benchmarks all build nodes here.
 */

import { loadOrCreatePeerKey, type Mesh } from '@allerac/mesh';
import { MODEL_PROTOCOL, MODELS_PROTOCOL } from '@allerac/protocol';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { agentChatContext } from './agents/agent-context.js';
import { withAgents } from './agents/agent-gateway.js';
import { AgentStore } from './agents/agent-store.js';
import { registerAgentsApi } from './agents/agents-api.js';
import { TokenVerifier } from './auth/api-tokens.js';
import type { Backend } from './backend/backend.js';
import { createOllamaBackend, parseOllamaUrl } from './backend/ollama-backend.js';
import { registerBackupApi } from './backup/backup-api.js';
import { BackupService } from './backup/backup-service.js';
import { preMigrateBackup } from './backup/pre-migrate.js';
import { removeRuntimeFile, writeRuntimeFile } from './backup/runtime-file.js';
import type { NodeConfig } from './config.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { registerDocumentApi } from './documents/document-api.js';
import { DocumentLibrary } from './documents/document-library.js';
import { createDocumentTools } from './documents/document-tools.js';
import { UnavailableError } from './errors.js';
import { createHomeAssistantService, createHomeAssistantTools } from './home-assistant/index.js';
import { registerHomeAssistantSettingsApi } from './home-assistant/settings-api.js';
import { NodeMetrics } from './http/metrics.js';
import { registerModelApi } from './http/ollama-models-api.js';
import { buildServer } from './http/server.js';
import { ConversationRecorder } from './inference/conversation-recorder.js';
import { LocalLoad } from './inference/local-load.js';
import { LocalModels } from './inference/local-models.js';
import { PeerMeasurements } from './inference/measurements.js';
import { MeshGateway } from './inference/mesh-gateway.js';
import { ModelManagement } from './inference/model-management.js';
import { createModelHandler } from './inference/model-service.js';
import { Prewarmer, withPrewarm } from './inference/prewarm.js';
import { createLogger } from './logger.js';
import { describeNode, registerManagementApi } from './management/management-api.js';
import { chatMemoryHook } from './memory/chat-memory.js';
import { registerMemoryApi } from './memory/memory-api.js';
import { MemoryProposals } from './memory/memory-proposals.js';
import { createMemoryService, type MemoryService } from './memory/memory-service.js';
import { registerProposalsApi } from './memory/proposals-api.js';
import { bindSpaceSyncToMesh, type SpaceSyncTransport } from './memory/sync-transport.js';
import { MeshRuntime } from './mesh-runtime.js';
import { BulkLaneServer } from './models/bulk-lane.js';
import { createHomeModels } from './models/home-models.js';
import { registerHomeModelsApi } from './models/home-models-api.js';
import { ModelPuller } from './models/model-source.js';
import { chooseModelsDir, ModelsDirectory, sharingStatus } from './models/models-dir.js';
import { serveModelsStream } from './models/models-server.js';
import { TransferTable } from './models/transfers.js';
import { registerTransfersApi } from './models/transfers-api.js';
import { NodeIdentity } from './node-identity.js';
import { PRIVATE_UMASK, restrictDataDir } from './store/file-modes.js';
import { ProposalRepository } from './store/proposal-repository.js';
import { readSetting } from './store/settings-keys.js';
import { openStore, type Store } from './store/store.js';
import { createSystemProbe, type SystemProbe } from './system/hardware.js';
import { SystemSampler } from './system/system-sampler.js';
import { createToolChatRunner, ToolRegistry } from './tools/index.js';
import { httpHostAtStart } from './ui/settings-routes.js';
import { createWebUi } from './ui/ui.js';
import { detectOwnInstallLayout } from './update/install-layout.js';
import { registerUpdateApi } from './update/update-api.js';
import { SOFTWARE_VERSION } from './version.js';
import { createWake } from './wake/index.js';
import { registerWakeApi } from './wake/wake-api.js';

/** How long in-flight requests may run on after a shutdown begins before they are cut. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Raised into streams that are still running when the grace period ends. */
export class NodeShuttingDownError extends UnavailableError {
  override name = 'NodeShuttingDownError';
  constructor() {
    super('the node is shutting down; retry on another node or in a moment', 5);
  }
}

/** A start after stop: a node runs once (its store and server are closed for good). */
export class NodeStoppedError extends Error {
  override name = 'NodeStoppedError';
  constructor() {
    super('the node was stopped; create a new one to run again');
  }
}

/** Something that exists only while the node runs was asked for before start. */
export class NodeNotStartedError extends Error {
  override name = 'NodeNotStartedError';
  constructor(what: string) {
    super(`${what} is known once the node has started`);
  }
}

/** The parts a caller may inject into a node; each has a default. */
export interface NodeComponents {
  /** The node's logger; by default one at the configured level, named after the node. */
  logger?: Logger | undefined;
  /** This machine's probe (hardware and usage); by default systeminformation's. */
  system?: SystemProbe | undefined;
  /** Shows the one-time setup code of an unclaimed node to the person at the terminal (never logged). */
  onSetupCode?: ((code: string, url: string) => void) | undefined;
  /** Sees every space-sync frame the node sends (benchmarks count the bytes on the wire). */
  onSyncFrame?: ((peer: string, bytes: Uint8Array) => void) | undefined;
}

/** A node: built by createNode, run by start(), ended by stop(). */
export interface AlleracNode {
  readonly config: NodeConfig;
  /** The HTTP base URL, e.g. http://127.0.0.1:8080; throws NodeNotStartedError before start. */
  readonly url: string;
  readonly store: Store;
  readonly backend: Backend;
  readonly gateway: MeshGateway;
  /** The node's place in the home mesh. */
  readonly mesh: MeshRuntime;
  readonly logger: Logger;
  /** The HTTP server, for in-process requests (`inject`) in tests. */
  readonly http: FastifyInstance;
  /** Backups on demand and on schedule (backup/backup-service.ts). */
  readonly backups: BackupService;
  /** Private and shared memories (memory/memory-service.ts). */
  readonly memory: MemoryService;
  /** Imported documents, stored as memories of source `document` (documents/document-library.ts). */
  readonly documents: DocumentLibrary;
  /** This machine's usage samples, for the dashboard (system/system-sampler.ts). */
  readonly sampler: SystemSampler;
  /** Starts the backend, HTTP, mesh and backup schedule; idempotent. Rejects NodeStoppedError after stop. */
  start(): Promise<void>;
  /** Graceful shutdown with the default grace period; idempotent. */
  stop(): Promise<void>;
  /** Graceful shutdown: in-flight requests finish or are cut with a clear error; the store closes. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

/** A node that startNode has started. */
export type RunningNode = AlleracNode;

/**
 * Builds a node: opens and migrates its store (with a backup first when the schema changes) and
 * wires every part; nothing listens until start().
 */
export async function createNode(flags: NodeConfig, components: NodeComponents = {}): Promise<AlleracNode> {
  // Everything the node writes is its owner's alone: keys, identity, conversations (file-modes.ts).
  process.umask(PRIVATE_UMASK);
  restrictDataDir(flags.dataDir);
  const startedAt = Date.now();
  // Before anything opens: a second node on this dir would share its peer id and its database.
  const lock = acquireDataDirLock(flags.dataDir);

  let store: Store;
  try {
    store = await openStore({
      databaseUrl: flags.databaseUrl,
      dataDir: flags.dataDir,
      // A schema change is preceded by a backup of the data as it was.
      beforeMigrate: preMigrateBackup(flags.dataDir),
    });
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    return await wire(flags, components, store, startedAt, lock);
  } catch (error) {
    await store.close().catch(() => {});
    lock.release();
    throw error;
  }
}

async function wire(
  flags: NodeConfig,
  components: NodeComponents,
  store: Store,
  startedAt: number,
  lock: DataDirLock,
): Promise<AlleracNode> {
  const config = await withStoredSettings(flags, store);
  const logger = components.logger ?? createLogger(config.logLevel, config.name);
  logger.info({ store: store.db.kind, location: store.db.location }, 'store ready');
  store.db.onHealthChange((health) => {
    if (health.state === 'ok') logger.info({ event: 'store-recovered' }, 'the store serves again');
    else logger.error({ event: 'store-degraded', reason: health.reason }, 'the store is degraded');
  });

  const metrics = new NodeMetrics();
  const backend = createOllamaBackend(
    { url: config.ollamaUrl },
    { logger: logger.child({ component: 'backend' }) },
  );
  backend.onHealthChange((health) => metrics.backendUp.set(health.state === 'up' ? 1 : 0));

  // Who this node says it is; the wizard and Settings change it while the node runs.
  const identity = new NodeIdentity({
    name: config.name,
    specializations: (await readSetting(store.settings, 'agent.specializations')) ?? config.specializations,
  });
  const system = components.system ?? createSystemProbe({ dataDir: config.dataDir });
  const hardware = system.hardware;
  const sampler = new SystemSampler({
    usage: () => system.usage(),
    logger: logger.child({ component: 'system-sampler' }),
  });
  const localModels = new LocalModels(backend);
  let mesh: MeshRuntime | undefined;
  // Every load change asks the mesh for a card update; the mesh sends at most one a second.
  const load = new LocalLoad(config.numParallel, config.maxQueue, () => mesh?.cardChanged());
  const gateway = new MeshGateway(
    {
      nodeName: () => identity.name,
      specializations: () => identity.specializations,
      defaultPolicy: () => ({ kind: 'auto' }),
    },
    {
      backend,
      localModels,
      load,
      measurements: new PeerMeasurements(),
      hardware,
      logger: logger.child({ component: 'router' }),
    },
  );
  mesh = new MeshRuntime(
    {
      name: () => identity.name,
      dataDir: config.dataDir,
      meshKeyFile: config.meshKeyFile,
      p2pHost: config.p2pHost,
      p2pPort: config.p2pPort,
      mdns: config.mdns,
      bootstrap: config.bootstrap,
      specializations: () => identity.specializations,
    },
    // `wake` is wired just below; the mesh asks for a card only once it has started.
    { backend, localModels, load, hardware, logger, wakeCard: () => wake.localCard.fields() },
  );
  const meshRuntime = mesh;
  // Sleeping peers: remembered cards, magic packets, and the gateway that wakes them when best.
  const wake = await createWake({
    dataDir: config.dataDir,
    settings: store.settings,
    mesh: meshRuntime,
    logger,
  });
  const servingGateway = wake.gatewayFor(gateway);
  // A rename or new specialisations reach the peers with the next card (a new seq), within a second.
  identity.addEventListener('change', (evt) => {
    logger.info(
      { event: 'identity-changed', name: evt.detail.name },
      'this agent was renamed or re-specialised',
    );
    meshRuntime.identityChanged();
  });
  // Mesh listeners must not throw: an EventTarget reports that as an uncaught exception.
  const onMeshStart = (what: string, fn: (started: Mesh) => void) =>
    meshRuntime.addEventListener('mesh:start', (evt) => {
      try {
        fn(evt.detail);
      } catch (error) {
        logger.error({ err: error, step: what }, 'could not bind to the started mesh');
      }
    });
  onMeshStart('gateway', (started) => gateway.attachMesh(started));
  backend.onHealthChange(() => {
    localModels.invalidate();
    meshRuntime.cardChanged();
  });
  // A model that arrives or leaves is in this node's list and card at once, wherever it was asked.
  const modelsChanged = () => {
    localModels.invalidate();
    meshRuntime.cardChanged();
  };
  const currentMesh = (): Mesh | undefined => {
    try {
      return meshRuntime.mesh;
    } catch {
      return undefined;
    }
  };
  const openMeshStream = (peer: string, protocol: string, signal?: AbortSignal) => {
    const running = currentMesh();
    if (running === undefined) throw new UnavailableError('the mesh is not running', 5);
    return running.openStream(peer, protocol, signal);
  };
  // Model copying (#16): this node's Ollama models directory is served to paired peers, and a
  // pull copies from a peer that holds the model.
  const modelsDir = new ModelsDirectory(chooseModelsDir(config.ollamaModelsDir));
  const transfers = new TransferTable();
  void modelsDir.status().then((status) => {
    if (!status.readable) logger.warn({ reason: status.reason }, 'peers cannot copy models from this node');
  });
  const puller = new ModelPuller({
    backend,
    holders: { peers: () => meshRuntime.peers() },
    open: openMeshStream,
    transfers,
    logger: logger.child({ component: 'model-copy' }),
  });
  // Blob ranges go over a TLS lane beside the mesh, keyed by tickets the mesh stream hands out.
  const bulkLane = new BulkLaneServer({
    host: config.p2pHost,
    logger: logger.child({ component: 'model-lane' }),
  });
  meshRuntime.handle(MODELS_PROTOCOL, (stream, peer) =>
    serveModelsStream(modelsDir, stream, peer, logger.child({ component: 'model-copy' }), bulkLane),
  );
  const models = new ModelManagement(() => identity.name, {
    backend,
    modelsChanged,
    logger: logger.child({ component: 'models' }),
    puller,
    mesh: {
      selfId: () => currentMesh()?.peerId,
      peers: () => meshRuntime.peers(),
      openStream: openMeshStream,
    },
  });
  meshRuntime.handle(
    MODEL_PROTOCOL,
    createModelHandler({
      backend,
      modelsChanged,
      puller,
      isCurrentPeer: (peer) => meshRuntime.peers().some((p) => p.id === peer && p.status === 'online'),
      logger: logger.child({ component: 'models' }),
    }),
  );
  const recorder = new ConversationRecorder(store.conversations, logger.child({ component: 'recorder' }));
  const shutdown = new AbortController();
  const tokens = new TokenVerifier(config.dataDir, store.tokens);
  const backups = new BackupService(
    { dataDir: config.dataDir, meshKeyFile: config.meshKeyFile, allowedDirs: config.backupDirs },
    { sql: store.db, settings: store.settings, logger: logger.child({ component: 'backup' }) },
  );
  const ui = createWebUi({
    config,
    store,
    liveAnswers: recorder.live,
    backend,
    logger: logger.child({ component: 'ui' }),
    startedAt,
    joinMesh: (code) => meshRuntime.join(code),
    // Created below; the wizard's choice reaches it only once the node serves requests.
    memory: { setEmbeddingModel: (model) => memory.setEmbeddingModel(model) },
    sampler,
    hardware,
    mesh: meshRuntime,
    wake: wake.localCard,
    nodeInfo: () => describeNode({ config, backend, store, mesh: meshRuntime, identity }),
    identity,
  });

  // The author of this node's memories is its peer id: a name changes and two nodes may share one.
  const memory = createMemoryService(
    peerIdFromPrivateKey(await loadOrCreatePeerKey(config.dataDir)).toString(),
    { store, gateway, logger: logger.child({ component: 'memory' }) },
    { legacyNames: [flags.name, config.name] },
  );
  const documents = new DocumentLibrary({ memory, logger: logger.child({ component: 'documents' }) });
  // What agents propose to remember, pending until its person keeps or discards it.
  const proposals = new MemoryProposals({
    repository: new ProposalRepository(store.db),
    memory,
    logger: logger.child({ component: 'memory-proposals' }),
  });
  // Shared spaces sync with peers over whichever mesh instance is current (it restarts on key rotation).
  let spaceSync: SpaceSyncTransport | undefined;
  onMeshStart('space-sync', (started) => {
    void spaceSync?.stop();
    spaceSync = bindSpaceSyncToMesh(
      started,
      memory.spaces,
      logger.child({ component: 'space-sync' }),
      components.onSyncFrame === undefined ? {} : { onOutboundFrame: components.onSyncFrame },
    );
  });

  // The home's agents, in a reserved document synced with the spaces; each one a model to clients.
  const agents = new AgentStore(memory.spaces, logger.child({ component: 'agents' }));
  // The tools agents may use, run here (the server-side tool loop): Home Assistant and documents.
  const homeAssistant = createHomeAssistantService({ dataDir: flags.dataDir });
  const tools = new ToolRegistry([
    ...createHomeAssistantTools({
      client: () => homeAssistant.client(),
      actionDomains: () => homeAssistant.actionDomains(),
    }),
    ...createDocumentTools(memory),
  ]);

  // Off unless Settings turn `routing.prewarm` on; read at every request.
  const prewarmer = new Prewarmer(
    { enabled: () => readSetting(store.settings, 'routing.prewarm') },
    { gateway, logger: logger.child({ component: 'prewarm' }) },
  );
  const server = await buildServer({
    gateway: withAgents(withPrewarm(servingGateway, prewarmer), {
      agents,
      logger: logger.child({ component: 'agents' }),
      run: createToolChatRunner(tools),
    }),
    recorder,
    metrics,
    logger,
    tokens,
    softwareVersion: SOFTWARE_VERSION,
    shutdownSignal: shutdown.signal,
    chatContext: agentChatContext(chatMemoryHook(memory, proposals), agents),
    authenticators: [ui.authenticator],
    browser: { origins: config.origins, hosts: config.hosts },
    health: async () => {
      const backendHealth = backend.health();
      const storeHealth = store.db.health();
      return {
        status: backendHealth.state === 'up' && storeHealth.state === 'ok' ? 'ok' : 'degraded',
        healthy: true,
        name: identity.name,
        version: SOFTWARE_VERSION,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        backend: backendHealth,
        store: { kind: store.db.kind, ...storeHealth },
        // `out-of-date` or `removed` tells the admin to join again with a fresh code.
        mesh: meshRuntime.healthStatus(),
        models: sharingStatus(await modelsDir.status()),
      };
    },
    extraRoutes: [
      (instance) =>
        registerManagementApi(instance, {
          config,
          backend,
          gateway: servingGateway,
          store,
          mesh: meshRuntime,
          identity,
          peerRemoved: (id) => wake.known.forget(id),
        }),
      (instance) => registerWakeApi(instance, wake.sleeping),
      (instance) => registerHomeAssistantSettingsApi(instance, homeAssistant),
      (instance) =>
        registerMemoryApi(instance, memory, {
          peerName: (id) => meshRuntime.peers().find((p) => p.id === id)?.name,
          selfName: () => identity.name,
        }),
      (instance) => registerProposalsApi(instance, proposals),
      (instance) => registerDocumentApi(instance, documents),
      (instance) => registerModelApi(instance, { models, shutdownSignal: shutdown.signal }),
      (instance) => registerAgentsApi(instance, agents),
      (instance) => registerTransfersApi(instance, { transfers }),
      (instance) =>
        registerHomeModelsApi(instance, {
          home: createHomeModels({
            nodeName: () => identity.name,
            backendUp: () => backend.health().state === 'up',
            hardware,
            localModels: () => localModels.list(),
            mesh: currentMesh,
            models,
            // The copies onto this node; a peer's own copies show in the pull stream that started them.
            transfers: async () =>
              transfers.list().map((t) => ({
                id: t.id,
                model: t.model,
                target: identity.name,
                source: t.source === 'peer' ? t.node : 'internet',
                completed: t.completed,
                total: t.total,
                status: t.status,
                ...(t.error !== undefined ? { error: t.error } : {}),
              })),
          }),
          shutdownSignal: shutdown.signal,
        }),
      (instance) => ui.register(instance),
      (instance) => registerBackupApi(instance, backups),
      (instance) =>
        registerUpdateApi(instance, { settings: store.settings, layout: detectOwnInstallLayout() }),
    ],
  });

  let url: string | undefined;
  let wroteRuntimeFile = false;
  let starting: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const run = async () => {
    // A missing Ollama is not fatal: the node serves its UI and reconnects when Ollama appears.
    await backend.start();
    if (config.join !== undefined) await meshRuntime.joinAtStart(config.join);
    await memory.start();
    await agents.start();
    await server.listen({ port: config.httpPort, host: config.httpHost });
    wake.start();
    await meshRuntime.start();
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.httpPort;
    const host = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
    const listening = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    url = listening;
    await backups.start();
    // Tells the CLI that this process holds the data dir (backup and update commands ask it over HTTP).
    writeRuntimeFile(config.dataDir, {
      pid: process.pid,
      url: listening,
      version: SOFTWARE_VERSION,
      startedAt: new Date(startedAt).toISOString(),
    });
    wroteRuntimeFile = true;
    logger.info(
      { url: listening, startupMs: Date.now() - startedAt, version: SOFTWARE_VERSION },
      'allerac node started',
    );
    if (!(await ui.accounts.setupState()).adminCreated) {
      const code = ui.setupCode.ensure();
      components.onSetupCode?.(code, listening);
      logger.info(
        { url: `${listening}/setup`, setupCodeFile: ui.setupCode.file },
        'not set up yet: open the web UI on this machine, or enter the setup code from another one',
      );
    }
  };

  const shutDown = async (graceMs: number) => {
    // A start under way finishes (or fails) first, so nothing it opens is left behind.
    await starting?.catch(() => {});
    logger.info({ graceMs }, 'shutting down');
    const closed = server.close();
    // After the grace period, running streams are cut with a clear error; a moment later any
    // connection still open (a client that never reads) is closed, so shutdown cannot hang.
    const grace = setTimeout(() => shutdown.abort(new NodeShuttingDownError()), graceMs);
    const force = setTimeout(() => server.server.closeAllConnections(), graceMs + 1_000);
    await closed;
    clearTimeout(grace);
    clearTimeout(force);
    shutdown.abort(new NodeShuttingDownError());
    const step = async (name: string, fn: () => Promise<unknown> | unknown) => {
      logger.debug({ step: name }, 'shutdown step');
      try {
        await fn();
      } catch (error) {
        logger.warn({ err: error, step: name }, 'shutdown step failed');
      }
    };
    await step('space-sync', async () => spaceSync?.stop());
    await step('model-lane', () => bulkLane.close());
    await step('mesh', () => meshRuntime.stop());
    await step('wake', () => wake.stop());
    await step('recorder', () => recorder.flush());
    await step('memory-proposals', () => proposals.flush());
    await step('memory', () => memory.stop());
    // Only our own: a node that failed to start beside a running one must not unlist that one.
    if (wroteRuntimeFile) removeRuntimeFile(config.dataDir);
    await step('backups', () => backups.stop());
    await step('backend', () => backend.stop());
    await step('sampler', () => sampler.stop());
    await step('store', () => store.close());
    lock.release();
    logger.info('stopped');
  };

  const close = (graceMs = SHUTDOWN_GRACE_MS) => {
    closing ??= shutDown(graceMs);
    return closing;
  };

  return {
    config,
    get url() {
      if (url === undefined) throw new NodeNotStartedError('the URL');
      return url;
    },
    store,
    backend,
    gateway,
    mesh: meshRuntime,
    logger,
    http: server,
    backups,
    memory,
    documents,
    sampler,
    start() {
      if (closing !== undefined) return Promise.reject(new NodeStoppedError());
      starting ??= run();
      return starting;
    },
    stop: () => close(),
    close,
  };
}

/**
 * The start configuration with what Settings stored: the agent's name (the wizard's or a rename),
 * the Ollama URL and whether to serve the home network. A flag or environment twin that was given
 * explicitly wins over each.
 */
async function withStoredSettings(flags: NodeConfig, store: Store): Promise<NodeConfig> {
  const config = { ...flags };
  const chosenName = flags.nameExplicit ? undefined : await readSetting(store.settings, 'agent.name');
  if (typeof chosenName === 'string' && chosenName !== '') config.name = chosenName;
  const chosenUrl = flags.ollamaUrlExplicit
    ? undefined
    : await readSetting(store.settings, 'backend.ollamaUrl');
  if (chosenUrl !== undefined) {
    try {
      config.ollamaUrl = parseOllamaUrl(chosenUrl);
    } catch {
      // A value written by hand that is not a URL: the default stands, as if none were stored.
    }
  }
  config.httpHost = httpHostAtStart(
    flags.httpHost,
    flags.httpHostExplicit,
    await readSetting(store.settings, 'http.serveLan'),
  );
  return config;
}

/** Builds and starts a node (the CLI's `allerac start`); a node that fails to start is stopped again. */
export async function startNode(flags: NodeConfig, components: NodeComponents = {}): Promise<RunningNode> {
  const node = await createNode(flags, components);
  try {
    await node.start();
  } catch (error) {
    await node.close(0);
    throw error;
  }
  return node;
}
