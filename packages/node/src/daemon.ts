import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { TokenVerifier } from './auth/api-tokens.js';
import type { Backend } from './backend/backend.js';
import { createOllamaBackend } from './backend/ollama-backend.js';
import { registerBackupApi } from './backup/backup-api.js';
import { BackupService } from './backup/backup-service.js';
import { removeRuntimeFile, writeRuntimeFile } from './backup/runtime-file.js';
import type { NodeConfig } from './config.js';
import { HttpError } from './http/errors.js';
import { NodeMetrics } from './http/metrics.js';
import { buildServer } from './http/server.js';
import { ConversationRecorder } from './inference/conversation-recorder.js';
import { LocalLoad } from './inference/local-load.js';
import { LocalModels } from './inference/local-models.js';
import { PeerMeasurements } from './inference/measurements.js';
import { MeshGateway } from './inference/mesh-gateway.js';
import { createLogger } from './logger.js';
import { registerManagementApi } from './management/management-api.js';
import { chatMemoryHook } from './memory/chat-memory.js';
import { registerMemoryApi } from './memory/memory-api.js';
import { createMemoryService, type MemoryService } from './memory/memory-service.js';
import { bindSpaceSyncToMesh, type SpaceSyncTransport } from './memory/sync-transport.js';
import { MeshRuntime } from './mesh-runtime.js';
import { openStore, type Store } from './store/store.js';
import { createHardwareProbe } from './system/hardware.js';
import { createWebUi } from './ui/ui.js';
import { detectOwnInstallLayout } from './update/install-layout.js';
import { registerUpdateApi } from './update/update-api.js';
import { SOFTWARE_VERSION } from './version.js';

/** How long in-flight requests may run on after a shutdown begins before they are cut. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Raised into streams that are still running when the grace period ends. */
export class NodeShuttingDownError extends HttpError {
  override name = 'NodeShuttingDownError';
  constructor() {
    super(
      503,
      'the node is shutting down; retry on another node or in a moment',
      'service_unavailable',
      undefined,
      5,
    );
  }
}

/** A started node. */
export interface RunningNode {
  readonly config: NodeConfig;
  /** The HTTP base URL, e.g. http://127.0.0.1:8080. */
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
  /** Graceful shutdown: in-flight requests finish or are cut with a clear error; the store closes. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

/** Starts a node: store, backend, HTTP API. */
export async function startNode(
  flags: NodeConfig,
  options: {
    logger?: Logger;
    /** Shows the one-time setup code of an unclaimed node to the person at the terminal (never logged). */
    onSetupCode?: (code: string, url: string) => void;
  } = {},
): Promise<RunningNode> {
  mkdirSync(flags.dataDir, { recursive: true });
  const startedAt = Date.now();

  const store = await openStore({ databaseUrl: flags.databaseUrl, dataDir: flags.dataDir });
  // The name chosen in the setup wizard applies unless --name (or ALLERAC_NAME) says otherwise.
  const chosenName = flags.nameExplicit ? undefined : await store.settings.get<string>('agent.name');
  const config: NodeConfig =
    typeof chosenName === 'string' && chosenName !== '' ? { ...flags, name: chosenName } : flags;
  const logger = options.logger ?? createLogger(config.logLevel, config.name);
  logger.info({ store: store.db.kind, location: store.db.location }, 'store ready');

  const metrics = new NodeMetrics();
  const backend = createOllamaBackend(
    { url: config.ollamaUrl },
    { logger: logger.child({ component: 'backend' }) },
  );
  backend.onHealthChange((health) => metrics.backendUp.set(health.state === 'up' ? 1 : 0));
  // A missing Ollama is not fatal: the node serves its UI and reconnects when Ollama appears.
  await backend.start();

  const specializations =
    (await store.settings.get<string[]>('agent.specializations')) ?? config.specializations;
  const hardware = createHardwareProbe({ dataDir: config.dataDir });
  const localModels = new LocalModels(backend);
  let mesh: MeshRuntime | undefined;
  // Every load change asks the mesh for a card update; the mesh sends at most one a second.
  const load = new LocalLoad(undefined, undefined, () => mesh?.cardChanged());
  const gateway = new MeshGateway(
    {
      nodeName: () => config.name,
      specializations: () => specializations,
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
      name: config.name,
      dataDir: config.dataDir,
      meshKeyFile: config.meshKeyFile,
      p2pHost: config.p2pHost,
      p2pPort: config.p2pPort,
      mdns: config.mdns,
      bootstrap: config.bootstrap,
      specializations: () => specializations,
    },
    { backend, localModels, load, hardware, logger },
  );
  const meshRuntime = mesh;
  meshRuntime.onStart((started) => gateway.attachMesh(started));
  backend.onHealthChange(() => {
    localModels.invalidate();
    meshRuntime.cardChanged();
  });
  if (config.join !== undefined) await meshRuntime.join(config.join);
  const recorder = new ConversationRecorder(store.conversations, logger.child({ component: 'recorder' }));
  const shutdown = new AbortController();
  const tokens = new TokenVerifier(config.dataDir, store.tokens);
  const backups = new BackupService(
    { dataDir: config.dataDir, meshKeyFile: config.meshKeyFile },
    { sql: store.db, settings: store.settings, logger: logger.child({ component: 'backup' }) },
  );
  const ui = createWebUi({
    config,
    store,
    backend,
    logger: logger.child({ component: 'ui' }),
    startedAt,
    joinMesh: (code) => meshRuntime.join(code),
  });

  const memory = createMemoryService(config.name, {
    store,
    gateway,
    logger: logger.child({ component: 'memory' }),
  });
  await memory.start();
  // Shared spaces sync with peers over whichever mesh instance is current (it restarts on key rotation).
  let spaceSync: SpaceSyncTransport | undefined;
  meshRuntime.onStart((started) => {
    void spaceSync?.stop();
    spaceSync = bindSpaceSyncToMesh(started, memory.spaces, logger.child({ component: 'space-sync' }));
  });

  let app: FastifyInstance | undefined;
  try {
    app = await buildServer({
      gateway,
      recorder,
      metrics,
      logger,
      tokens,
      softwareVersion: SOFTWARE_VERSION,
      shutdownSignal: shutdown.signal,
      chatContext: chatMemoryHook(memory),
      authenticators: [ui.authenticator],
      browser: { origins: config.origins, hosts: config.hosts },
      health: async () => {
        const backendHealth = backend.health();
        return {
          status: backendHealth.state === 'up' ? 'ok' : 'degraded',
          healthy: true,
          name: config.name,
          version: SOFTWARE_VERSION,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          backend: backendHealth,
          store: { kind: store.db.kind },
        };
      },
      extraRoutes: [
        (instance) => registerManagementApi(instance, { config, backend, gateway, store, mesh: meshRuntime }),
        (instance) => registerMemoryApi(instance, memory),
        (instance) => ui.register(instance),
        (instance) => registerBackupApi(instance, backups),
        (instance) =>
          registerUpdateApi(instance, { settings: store.settings, layout: detectOwnInstallLayout() }),
      ],
    });
    await app.listen({ port: config.httpPort, host: config.httpHost });
    await meshRuntime.start();
  } catch (error) {
    await app?.close().catch(() => {});
    await meshRuntime.stop().catch(() => {});
    await memory.stop();
    await backend.stop();
    await store.close();
    throw error;
  }
  const server = app;
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.httpPort;
  const host = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  await backups.start();
  // Tells the CLI that this process holds the data dir (backup and update commands ask it over HTTP).
  writeRuntimeFile(config.dataDir, {
    pid: process.pid,
    url,
    version: SOFTWARE_VERSION,
    startedAt: new Date(startedAt).toISOString(),
  });
  logger.info({ url, startupMs: Date.now() - startedAt, version: SOFTWARE_VERSION }, 'allerac node started');
  if (!(await ui.accounts.setupState()).adminCreated) {
    const code = ui.setupCode.ensure();
    options.onSetupCode?.(code, url);
    logger.info(
      { url: `${url}/setup`, setupCodeFile: ui.setupCode.file },
      'not set up yet: open the web UI on this machine, or enter the setup code from another one',
    );
  }

  let closing: Promise<void> | undefined;
  const close = (graceMs = SHUTDOWN_GRACE_MS) => {
    closing ??= (async () => {
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
      await step('mesh', () => meshRuntime.stop());
      await step('recorder', () => recorder.flush());
      await step('memory', () => memory.stop());
      removeRuntimeFile(config.dataDir);
      await step('backups', () => backups.stop());
      await step('backend', () => backend.stop());
      await step('store', () => store.close());
      logger.info('stopped');
    })();
    return closing;
  };

  return {
    config,
    url,
    store,
    backend,
    gateway,
    mesh: meshRuntime,
    logger,
    http: server,
    backups,
    memory,
    close,
  };
}
