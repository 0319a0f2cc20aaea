/**
 * /allerac/v1/memories/proposals: memories an agent proposed from a conversation (issue #18),
 * pending until their person keeps (a memory is created) or discards them. Each is private to
 * the person whose chat proposed it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, IsoTime, Nullable } from './schema.js';

/** What a proposal id is: a UUID, as the node makes them. */
export const PROPOSAL_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** The most proposals one person has pending; the oldest beyond it are dropped. */
export const MAX_PENDING_PROPOSALS = 200;

/** A pending proposal. */
export const MemoryProposalView = Closed({
  id: Type.String(),
  /** The memory it would become. */
  text: Type.String(),
  /** The conversation it came from. */
  conversationId: Nullable(Type.String()),
  /** The slug of the agent that proposed it. */
  agent: Type.String(),
  createdAt: IsoTime,
});
export type MemoryProposalView = Static<typeof MemoryProposalView>;

/** GET /allerac/v1/memories/proposals: the caller's pending proposals, newest first. */
export const MemoryProposalList = Closed({ proposals: Type.Array(MemoryProposalView) });
export type MemoryProposalList = Static<typeof MemoryProposalList>;

/** `:id` of /allerac/v1/memories/proposals/:id/keep and /discard. */
export const ProposalParams = Type.Object({
  id: Type.String({ pattern: PROPOSAL_ID_PATTERN, description: 'a proposal id (a UUID)' }),
});
export type ProposalParams = Static<typeof ProposalParams>;

/**
 * POST …/keep: where the memory goes; absent, null or `private`: a private memory of the caller,
 * else the shared space of that name. A body may be left out altogether.
 */
export const KeepProposalBody = Type.Union([
  Closed({
    space: Type.Optional(
      Nullable(
        Type.String({
          minLength: 1,
          maxLength: 64,
          pattern: '^[^\\u0000]*$',
          description: 'a space name, or "private"',
        }),
      ),
    ),
  }),
  // Fastify hands a request without a body over as null.
  Type.Null(),
  Type.Undefined(),
]);
export type KeepProposalBody = Static<typeof KeepProposalBody>;

/** POST …/discard. */
export const ProposalDiscarded = Closed({ discarded: Type.String() });
export type ProposalDiscarded = Static<typeof ProposalDiscarded>;

/** The final chunk's `allerac.proposals` of an answer whose conversation proposed memories. */
export const AnswerProposals = Closed({
  /** The statements proposed; one that is pending already stays a single proposal. */
  texts: Type.Array(Type.String()),
});
export type AnswerProposals = Static<typeof AnswerProposals>;

/** The final chunk's `allerac.notRemembered`: a "remember …" message that saved nothing. */
export const NotRemembered = Closed({
  text: Type.String(),
  /** `agent-write-off`: the agent may not write memories (`memory.write: false`). */
  reason: Type.Literal('agent-write-off'),
});
export type NotRemembered = Static<typeof NotRemembered>;
