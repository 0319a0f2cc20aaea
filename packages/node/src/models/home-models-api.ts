/**
 * GET /allerac/v1/models/home and POST /allerac/v1/models/home/delete: the home's model manager.
 * Admins only (loopback counts as one), like the model management of /api/pull and /api/delete,
 * since they show every machine's hardware and delete models.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { BackendResponseError } from '../backend/errors.js';
import {
  type HomeDeleted,
  HomeDeleteRequest,
  type HomeModels,
  HomeModelsQuery,
} from '../contract/models-home.js';
import { abortOnClientClose } from '../http/stream.js';
import { validatedBy } from '../http/validate.js';
import type { HomeModelsService } from './home-models.js';

/** Registers the model manager's routes. */
export function registerHomeModelsApi(
  app: FastifyInstance,
  deps: { home: HomeModelsService; shutdownSignal: AbortSignal },
): void {
  app.get<{ Querystring: HomeModelsQuery }>(
    '/allerac/v1/models/home',
    { config: { access: 'local-or-admin' }, ...validatedBy({ querystring: HomeModelsQuery }) },
    async (request): Promise<HomeModels> => deps.home.list(request.query.model),
  );

  app.post<{ Body: HomeDeleteRequest }>(
    '/allerac/v1/models/home/delete',
    { config: { access: 'local-or-admin' }, ...validatedBy({ body: HomeDeleteRequest }) },
    async (request, reply): Promise<HomeDeleted | FastifyReply> => {
      const { model, node, confirm } = request.body;
      const signal = AbortSignal.any([abortOnClientClose(reply.raw).signal, deps.shutdownSignal]);
      try {
        return await deps.home.delete(model, node, confirm === true, signal);
      } catch (error) {
        // Ollama's own refusal (a model that is not there: 404) keeps its status and text.
        if (error instanceof BackendResponseError && error.status >= 400 && error.status < 500) {
          return reply.status(error.status).send({ error: error.message });
        }
        throw error;
      }
    },
  );
}
