import type { FastifyInstance } from 'fastify';
import type { Backend } from '../backend/backend.js';
import type { NodeConfig } from '../config.js';
import type { InferenceGateway } from '../inference/gateway.js';
import type { Store } from '../store/store.js';
import { SOFTWARE_VERSION } from '../version.js';

/** What the management API reads. */
export interface ManagementDeps {
  config: NodeConfig;
  backend: Backend;
  gateway: InferenceGateway;
  store: Store;
}

/** /allerac/v1/*: this node and what it sees. Every route needs a token or a session. */
export function registerManagementApi(app: FastifyInstance, deps: ManagementDeps): void {
  app.get('/allerac/v1/node', async () => {
    const backend = deps.backend.health();
    const models = backend.state === 'up' ? await deps.backend.list().catch(() => []) : [];
    return {
      name: deps.config.name,
      version: SOFTWARE_VERSION,
      backend,
      models: models.map((m) => m.name),
      store: {
        kind: deps.store.db.kind,
        ...(await deps.store.conversations.counts()),
        memories: await deps.store.memories.count(),
      },
    };
  });

  // A single node sees no peers; the mesh fills this list in.
  app.get('/allerac/v1/peers', async () => []);
}
