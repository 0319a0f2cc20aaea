import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { TokenVerifier } from './auth/api-tokens.js';
import type { Backend } from './backend/backend.js';
import { createOllamaBackend } from './backend/ollama-backend.js';
import type { NodeConfig } from './config.js';
import { HttpError } from './http/errors.js';
import { NodeMetrics } from './http/metrics.js';
import { buildServer } from './http/server.js';
import { ConversationRecorder } from './inference/conversation-recorder.js';
import type { InferenceGateway } from './inference/gateway.js';
import { LocalGateway } from './inference/local-gateway.js';
import { createLogger } from './logger.js';
import { registerManagementApi } from './management/management-api.js';
import { openStore, type Store } from './store/store.js';
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
  readonly gateway: InferenceGateway;
  readonly logger: Logger;
  /** The HTTP server, for in-process requests (`inject`) in tests. */
  readonly http: FastifyInstance;
  /** Graceful shutdown: in-flight requests finish or are cut with a clear error; the store closes. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

/** Starts a node: store, backend, HTTP API. */
export async function startNode(config: NodeConfig, options: { logger?: Logger } = {}): Promise<RunningNode> {
  const logger = options.logger ?? createLogger(config.logLevel, config.name);
  mkdirSync(config.dataDir, { recursive: true });
  const startedAt = Date.now();

  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  logger.info({ store: store.db.kind, location: store.db.location }, 'store ready');

  const metrics = new NodeMetrics();
  const backend = createOllamaBackend(
    { url: config.ollamaUrl },
    { logger: logger.child({ component: 'backend' }) },
  );
  backend.onHealthChange((health) => metrics.backendUp.set(health.state === 'up' ? 1 : 0));
  // A missing Ollama is not fatal: the node serves its UI and reconnects when Ollama appears.
  await backend.start();

  const gateway: InferenceGateway = new LocalGateway(backend, () => config.name);
  const recorder = new ConversationRecorder(store.conversations, logger.child({ component: 'recorder' }));
  const shutdown = new AbortController();
  const tokens = new TokenVerifier(config.dataDir, store.tokens);

  let app: FastifyInstance;
  try {
    app = await buildServer({
      gateway,
      recorder,
      metrics,
      logger,
      tokens,
      softwareVersion: SOFTWARE_VERSION,
      shutdownSignal: shutdown.signal,
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
      extraRoutes: [(instance) => registerManagementApi(instance, { config, backend, gateway, store })],
    });
    await app.listen({ port: config.httpPort, host: config.httpHost });
  } catch (error) {
    await backend.stop();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.httpPort;
  const host = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  logger.info({ url, startupMs: Date.now() - startedAt, version: SOFTWARE_VERSION }, 'allerac node started');

  let closing: Promise<void> | undefined;
  const close = (graceMs = SHUTDOWN_GRACE_MS) => {
    closing ??= (async () => {
      logger.info({ graceMs }, 'shutting down');
      const closed = app.close();
      const grace = setTimeout(() => shutdown.abort(new NodeShuttingDownError()), graceMs);
      await closed;
      clearTimeout(grace);
      shutdown.abort(new NodeShuttingDownError());
      await recorder.flush();
      await backend.stop();
      await store.close();
      logger.info('stopped');
    })();
    return closing;
  };

  return { config, url, store, backend, gateway, logger, http: app, close };
}
