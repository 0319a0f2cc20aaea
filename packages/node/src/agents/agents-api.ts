/**
 * /allerac/v1/agents: the home's agents. As all of /allerac/v1, every route needs a token or a
 * session: any role reads them (they are listed as models anyway), admins create, edit and
 * delete them.
 */
import type { FastifyInstance } from 'fastify';
import {
  type AgentDeleted,
  type AgentList,
  AgentParams,
  AgentUpdateBody,
  type AgentView,
  NewAgentBody,
} from '../contract/agents.js';
import { validatedBy } from '../http/validate.js';
import type { AgentStore } from './agent-store.js';

const BASE = '/allerac/v1/agents';

/** Registers the agents routes. */
export function registerAgentsApi(app: FastifyInstance, agents: AgentStore): void {
  const read = { access: 'signed-in' as const };
  const write = { access: 'admin' as const };

  app.get(BASE, { config: read }, async (): Promise<AgentList> => ({ agents: agents.list() }));

  app.get<{ Params: AgentParams }>(
    `${BASE}/:slug`,
    { config: read, ...validatedBy({ params: AgentParams }) },
    async (request): Promise<AgentView> => agents.get(request.params.slug),
  );

  app.post<{ Body: NewAgentBody }>(
    BASE,
    { config: write, ...validatedBy({ body: NewAgentBody }) },
    async (request, reply) => reply.status(201).send(await agents.create(request.body)),
  );

  app.put<{ Params: AgentParams; Body: AgentUpdateBody }>(
    `${BASE}/:slug`,
    { config: write, ...validatedBy({ params: AgentParams, body: AgentUpdateBody }) },
    async (request): Promise<AgentView> => agents.update(request.params.slug, request.body),
  );

  app.delete<{ Params: AgentParams }>(
    `${BASE}/:slug`,
    { config: write, ...validatedBy({ params: AgentParams }) },
    async (request): Promise<AgentDeleted> => {
      const restored = await agents.delete(request.params.slug);
      return restored === undefined ? { deleted: true } : { deleted: true, restored };
    },
  );
}
