import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AccountService } from '../accounts/account-service.js';
import { SetupCode } from '../accounts/setup-code.js';
import { TokenRegistry } from '../auth/token-registry.js';
import type { Backend } from '../backend/backend.js';
import type { NodeConfig } from '../config.js';
import type { Authenticator } from '../http/route-access.js';
import type { LiveAnswers } from '../inference/live-answers.js';
import type { NodeIdentity } from '../node-identity.js';
import type { Store } from '../store/store.js';
import type { HardwareProbe } from '../system/hardware.js';
import type { SystemSampler } from '../system/system-sampler.js';
import { SOFTWARE_VERSION } from '../version.js';
import { registerAccountRoutes } from './account-routes.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerConversationRoutes } from './conversation-routes.js';
import type { LiveMesh } from './live-events.js';
import { createSessionAuthenticator } from './session-auth.js';
import { registerSettingsRoutes } from './settings-routes.js';
import { registerSetupRoutes } from './setup-routes.js';
import { registerSystemRoutes } from './system-routes.js';
import { registerWebAssets, resolveWebDist } from './web-assets.js';

/** What the web UI's node side needs. */
export interface UiComponents {
  config: NodeConfig;
  store: Store;
  backend: Backend;
  logger: Logger;
  /** When the node started, for the dashboard's uptime. */
  startedAt?: number;
  /** The built SPA; defaults to the installed @allerac/web package's dist. */
  webDist?: string | undefined;
  /** Joins a home mesh with a join code at runtime, once the mesh offers it. */
  joinMesh?: ((code: string) => Promise<unknown>) | undefined;
  /** The memory service, which takes the embedding model the setup wizard chooses. */
  memory: { setEmbeddingModel(model: string): Promise<unknown> };
  /** This machine's live samples for the dashboard (system/system-sampler.ts). */
  sampler: SystemSampler;
  /** This machine's hardware, from the probe the card uses too. */
  hardware: HardwareProbe;
  /** The peers and their events, for the live event stream. */
  mesh: LiveMesh;
  /** This machine's wake flags, which Settings change (wake/local-wake-card.ts). */
  wake?: { set(next: { wakeOnLan?: boolean; preferredWhenOn?: boolean }): Promise<void> } | undefined;
  /** This node as GET /allerac/v1/node describes it, for the live event stream. */
  nodeInfo: () => Promise<unknown>;
  /** Answers being generated for the UI (the recorder's), for /conversations/:id/live and /stop. */
  liveAnswers: LiveAnswers;
  /** The agent's live name and specialisations, which the wizard and Settings change. */
  identity: NodeIdentity;
}

/** The UI's parts, wired into the HTTP server by the daemon. */
export interface WebUi {
  readonly accounts: AccountService;
  /** Recognises session cookies on /allerac/*, /api/* and /v1/*. */
  readonly authenticator: Authenticator;
  /** The one-time code that claims a fresh node from another machine. */
  readonly setupCode: SetupCode;
  /** Registers the SPA, /auth/* and the UI's /allerac/v1/* routes. */
  register(app: FastifyInstance): Promise<void>;
}

/** Builds the web UI's node side: accounts, sessions, setup, static files, SSE live data. */
export function createWebUi(components: UiComponents): WebUi {
  const { config, store, backend, logger } = components;
  const accounts = new AccountService(store.users, store.sessions, store.settings);
  const setupCode = new SetupCode(config.dataDir);
  return {
    accounts,
    setupCode,
    authenticator: createSessionAuthenticator(accounts),
    async register(app) {
      // Also loads the cookie codec that the session authenticator's parse/serialize use.
      await app.register(fastifyCookie);
      const { sampler } = components;
      app.addHook('onClose', async () => sampler.stop());
      registerAuthRoutes(app, {
        accounts,
        settings: store.settings,
        nodeName: () => components.identity.name,
        version: SOFTWARE_VERSION,
        setupCode,
      });
      registerAccountRoutes(app, {
        accounts,
        settings: store.settings,
        tokens: new TokenRegistry(config.dataDir, store.tokens),
      });
      registerSetupRoutes(app, {
        accounts,
        settings: store.settings,
        backend,
        joinMesh: components.joinMesh,
        memory: components.memory,
        identity: components.identity,
      });
      registerSettingsRoutes(app, {
        settings: store.settings,
        identity: components.identity,
        memory: components.memory,
        backend,
        http: { host: config.httpHost, hostExplicit: config.httpHostExplicit },
        wake: components.wake,
      });
      registerConversationRoutes(app, { store, logger, live: components.liveAnswers });
      registerSystemRoutes(app, {
        store,
        backend,
        sampler,
        hardware: components.hardware,
        mesh: components.mesh,
        nodeInfo: components.nodeInfo,
        logger,
        nodeName: () => components.identity.name,
        version: SOFTWARE_VERSION,
        startedAt: components.startedAt ?? Date.now(),
      });
      const dist = components.webDist ?? resolveWebDist();
      if (dist === undefined) logger.warn('the web UI is not built; run `npm run build` to serve it at /');
      await registerWebAssets(app, dist);
    },
  };
}
