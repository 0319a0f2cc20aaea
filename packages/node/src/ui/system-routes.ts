import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import type { BackendHealth } from '../contract/management.js';
import { ModelNameParams } from '../contract/query.js';
import { type Dashboard, ModelPullBody, type SystemHistory } from '../contract/system.js';
import { HttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import type { Store } from '../store/store.js';
import type { HardwareProbe } from '../system/hardware.js';
import type { SystemSampler } from '../system/system-sampler.js';
import { LiveEvents, type LiveMesh } from './live-events.js';
import { openSse, type SseStream } from './sse.js';

/** What the dashboard and events routes need. */
export interface SystemRoutesDeps {
  store: Store;
  backend: Backend;
  sampler: SystemSampler;
  /** This machine's hardware, from the same probe as the card's. */
  hardware: HardwareProbe;
  /** The peers, and the events that say when they or this node's card change. */
  mesh: LiveMesh;
  /** This node as GET /allerac/v1/node describes it. */
  nodeInfo: () => Promise<unknown>;
  logger: Logger;
  /** The agent's current name (it changes on a rename). */
  nodeName: () => string;
  version: string;
  startedAt: number;
}

/**
 * /allerac/v1/dashboard, /system/history, /events (SSE) and model pulls and deletes. The events
 * stream is fed by the sampler's and the mesh's events (ui/live-events.ts), not by polling.
 */
export function registerSystemRoutes(app: FastifyInstance, deps: SystemRoutesDeps): void {
  const streams = new Set<SseStream>();
  const live = new LiveEvents(deps);
  app.addHook('preClose', async () => {
    live.close();
    for (const stream of [...streams]) stream.close();
  });

  app.get(
    '/allerac/v1/system/history',
    { config: { access: 'admin' } },
    async (): Promise<SystemHistory> => ({ samples: deps.sampler.recent() }),
  );

  app.get('/allerac/v1/dashboard', { config: { access: 'admin' } }, async (): Promise<Dashboard> => {
    const health = deps.backend.health();
    const up = health.state === 'up';
    const [models, loaded, version, counts, memories, sizeBytes, hw] = await Promise.all([
      up ? deps.backend.list().catch(() => []) : [],
      up ? deps.backend.ps().catch(() => []) : [],
      up ? deps.backend.version().catch(() => health.version ?? null) : null,
      deps.store.conversations.counts(),
      deps.store.memories.count(),
      databaseSize(deps.store),
      deps.hardware().catch(() => null),
    ]);
    const loadedNames = new Set(loaded.map((model) => model.name));
    return {
      node: {
        name: deps.nodeName(),
        version: deps.version,
        uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      },
      hardware: hw,
      ollama: {
        state: health.state,
        url: health.url,
        version,
        error: health.error ?? null,
        models: models.map((model) => ({
          name: model.name,
          size: model.size,
          parameterSize: model.details.parameter_size ?? null,
          quantization: model.details.quantization_level ?? null,
          loaded: loadedNames.has(model.name),
        })),
      },
      database: { kind: deps.store.db.kind, sizeBytes, ...counts, memories },
    };
  });

  app.get('/allerac/v1/events', { config: { access: 'admin' } }, async (request, reply) => {
    const stream = openSse(request, reply, streams);
    // The route admits admins only; the check keeps every event admin-only should that change.
    if (request.principal?.role === 'admin') await live.add(stream);
  });

  // Streams Ollama's own pull progress ({status, total, completed}) to the browser as SSE.
  app.post<{ Body: ModelPullBody }>(
    '/allerac/v1/models/pull',
    { config: { access: 'admin' }, ...validatedBy({ body: ModelPullBody }) },
    async (request, reply) => {
      const model = request.body.model.trim();
      const stream = openSse(request, reply, streams);
      try {
        for await (const progress of deps.backend.pull(model, stream.signal)) {
          stream.send('progress', progress);
        }
        stream.send('done', { model });
      } catch (error) {
        if (!stream.closed) stream.send('error', { error: (error as Error).message });
      } finally {
        stream.close();
      }
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/allerac/v1/models/:name',
    { config: { access: 'admin' }, ...validatedBy({ params: ModelNameParams }) },
    async (request, reply) => {
      // The router has decoded the name once already; decoding again breaks on a literal "%".
      await deps.backend.delete(request.params.name);
      return reply.status(204).send();
    },
  );

  app.get('/allerac/v1/backend', { config: { access: 'admin' } }, async (): Promise<BackendHealth> => {
    const health = deps.backend.health();
    if (health.state !== 'up') throw new HttpError(503, `Ollama is ${health.state} at ${health.url}`);
    return health;
  });
}

async function databaseSize(store: Store): Promise<number | null> {
  try {
    const [row] = await store.db.query<{ size: string | number }>(
      'SELECT pg_database_size(current_database()) AS size',
    );
    return row === undefined ? null : Number(row.size);
  } catch {
    return null;
  }
}
