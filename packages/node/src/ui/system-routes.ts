import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import si from 'systeminformation';
import type { Backend } from '../backend/backend.js';
import { HttpError } from '../http/errors.js';
import { ModelNameParams } from '../http/query-schemas.js';
import { validatedBy } from '../http/validate.js';
import type { Store } from '../store/store.js';
import { objectBody, stringField } from './body.js';
import { openSse, type SseStream } from './sse.js';
import type { SystemSampler } from './system-sampler.js';

/** How often peers and node load are pushed to open event streams. */
export const PEERS_INTERVAL_MS = 3_000;

/** What the dashboard and events routes need. */
export interface SystemRoutesDeps {
  store: Store;
  backend: Backend;
  sampler: SystemSampler;
  logger: Logger;
  nodeName: string;
  version: string;
  startedAt: number;
}

/** Headers that carry the caller's credential into an internal request. */
function credentialHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  if (typeof request.headers.cookie === 'string') headers.cookie = request.headers.cookie;
  if (typeof request.headers.authorization === 'string')
    headers.authorization = request.headers.authorization;
  return headers;
}

/**
 * /allerac/v1/dashboard, /system/history, /events (SSE) and model pulls and deletes. Peers are
 * read through the node's own GET /allerac/v1/peers, so whatever the mesh serves there streams
 * here too.
 */
export function registerSystemRoutes(app: FastifyInstance, deps: SystemRoutesDeps): void {
  const streams = new Set<SseStream>();
  app.addHook('preClose', async () => {
    for (const stream of [...streams]) stream.close();
  });

  let hardware: Promise<Record<string, unknown>> | undefined;
  const hardwareInfo = () => {
    hardware ??= Promise.all([si.cpu(), si.graphics().catch(() => ({ controllers: [] }))]).then(
      ([cpu, graphics]) => ({
        cpu: `${cpu.manufacturer} ${cpu.brand}`.trim(),
        cores: cpu.cores,
        gpus: graphics.controllers.map((gpu) => ({ model: gpu.model, vram: gpu.vram })),
      }),
    );
    return hardware;
  };

  app.get('/allerac/v1/system/history', { config: { access: 'admin' } }, async (_request) => {
    return { samples: deps.sampler.recent() };
  });

  app.get('/allerac/v1/dashboard', { config: { access: 'admin' } }, async (_request) => {
    const health = deps.backend.health();
    const up = health.state === 'up';
    const [models, loaded, version, counts, memories, sizeBytes, hw] = await Promise.all([
      up ? deps.backend.list().catch(() => []) : [],
      up ? deps.backend.ps().catch(() => []) : [],
      up ? deps.backend.version().catch(() => health.version ?? null) : null,
      deps.store.conversations.counts(),
      deps.store.memories.count(),
      databaseSize(deps.store),
      hardwareInfo().catch(() => ({})),
    ]);
    const loadedNames = new Set(loaded.map((model) => model.name));
    return {
      node: {
        name: deps.nodeName,
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
    const admin = request.principal?.role === 'admin';
    const stream = openSse(request, reply, streams);
    const headers = credentialHeaders(request);
    if (admin) stream.send('history', { samples: deps.sampler.recent() });
    const unsubscribe = admin ? deps.sampler.subscribe((sample) => stream.send('system', sample)) : () => {};
    const pushPeers = async () => {
      try {
        const [peers, node] = await Promise.all([
          app.inject({ method: 'GET', url: '/allerac/v1/peers', headers }),
          app.inject({ method: 'GET', url: '/allerac/v1/node', headers }),
        ]);
        if (peers.statusCode === 200) stream.send('peers', peers.json());
        if (node.statusCode === 200) stream.send('node', node.json());
      } catch (error) {
        deps.logger.debug({ err: error }, 'could not read peers for the event stream');
      }
    };
    void pushPeers();
    const timer = setInterval(() => void pushPeers(), PEERS_INTERVAL_MS);
    stream.signal.addEventListener('abort', () => {
      clearInterval(timer);
      unsubscribe();
    });
  });

  // Streams Ollama's own pull progress ({status, total, completed}) to the browser as SSE.
  app.post('/allerac/v1/models/pull', { config: { access: 'admin' } }, async (request, reply) => {
    const model = stringField(objectBody(request.body), 'model', 200).trim();
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
  });

  app.delete<{ Params: { name: string } }>(
    '/allerac/v1/models/:name',
    { config: { access: 'admin' }, ...validatedBy({ params: ModelNameParams }) },
    async (request, reply) => {
      // The router has decoded the name once already; decoding again breaks on a literal "%".
      await deps.backend.delete(request.params.name);
      return reply.status(204).send();
    },
  );

  app.get('/allerac/v1/backend', { config: { access: 'admin' } }, async () => {
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
