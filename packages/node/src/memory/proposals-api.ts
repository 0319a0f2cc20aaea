/**
 * /allerac/v1/memories/proposals: the caller's pending memory proposals, and keeping or
 * discarding one. Anyone signed in; each person sees and acts on their own proposals only (a
 * member's are its own, an admin's are the admins' of this node).
 */
import type { FastifyInstance } from 'fastify';
import type { MemoryView } from '../contract/memory.js';
import {
  KeepProposalBody,
  type MemoryProposalList,
  type MemoryProposalView,
  type ProposalDiscarded,
  ProposalParams,
} from '../contract/memory-proposals.js';
import { toHttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import type { ProposalRecord } from '../store/proposal-repository.js';
import { memberKey, memoryView } from './memory-api.js';
import type { MemoryProposals } from './memory-proposals.js';

/** A proposal as the API shows it. */
export const proposalView = (p: ProposalRecord): MemoryProposalView => ({
  id: p.id,
  text: p.text,
  conversationId: p.conversationId,
  agent: p.agent,
  createdAt: p.createdAt.toISOString(),
});

/** Registers the proposal routes. */
export function registerProposalsApi(app: FastifyInstance, proposals: MemoryProposals): void {
  const base = '/allerac/v1/memories/proposals';
  const mapped = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toHttpError(error);
    }
  };

  app.get(
    base,
    { config: { access: 'signed-in' } },
    async (request): Promise<MemoryProposalList> =>
      mapped(async () => ({ proposals: (await proposals.list(memberKey(request))).map(proposalView) })),
  );

  app.post<{ Params: ProposalParams; Body: KeepProposalBody }>(
    `${base}/:id/keep`,
    { config: { access: 'signed-in' }, ...validatedBy({ params: ProposalParams, body: KeepProposalBody }) },
    async (request, reply) =>
      mapped(async () => {
        const space = request.body?.space;
        const memory = await proposals.keep(
          request.params.id,
          memberKey(request),
          space === undefined || space === null || space === 'private' ? null : space,
        );
        const created: MemoryView = memoryView(memory);
        return reply.status(201).send(created);
      }),
  );

  app.post<{ Params: ProposalParams }>(
    `${base}/:id/discard`,
    { config: { access: 'signed-in' }, ...validatedBy({ params: ProposalParams }) },
    async (request): Promise<ProposalDiscarded> =>
      mapped(async () => {
        await proposals.discard(request.params.id, memberKey(request));
        return { discarded: request.params.id };
      }),
  );
}
