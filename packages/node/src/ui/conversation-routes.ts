import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AnswerMetadata } from '../contract/chat.js';
import type {
  ConversationHeader,
  ConversationList,
  ConversationMessages,
  StoredMessage as StoredMessageView,
} from '../contract/conversation.js';
import { ConversationListQuery, IdParams } from '../contract/query.js';
import { ForbiddenError } from '../errors.js';
import { HttpError } from '../http/errors.js';
import { CONVERSATION_HEADER, conversationIdOf } from '../http/ollama-api.js';
import { validatedBy } from '../http/validate.js';
import type { Conversation, StoredMessage } from '../store/conversation-repository.js';
import type { Store } from '../store/store.js';

/** Chat endpoints whose conversations are recorded. */
const CHAT_PATHS = new Set(['/api/chat', '/api/generate', '/v1/chat/completions']);

const pathOf = (request: FastifyRequest) => request.url.split('?')[0]!;
const isMember = (request: FastifyRequest) => request.principal?.role === 'member';

/**
 * /allerac/v1/conversations: history from the store. Conversations a UI user starts are claimed
 * for them, so a member sees and continues only their own; admins see all.
 */
export function registerConversationRoutes(
  app: FastifyInstance,
  deps: { store: Store; logger: Logger },
): void {
  const owners = deps.store.conversationOwners;

  const assertMayRead = async (request: FastifyRequest, id: string) => {
    if (!isMember(request)) return;
    const owner = await owners.ownerOf(id);
    if (owner !== request.principal?.id) throw new HttpError(404, 'no such conversation');
  };

  // Conversations started through the UI get their id here, so they can be claimed for the user
  // before the (hijacked, streaming) answer begins; a member may not continue someone else's.
  // The id travels in the request's context (generation.ts reads it), never in its headers.
  app.addHook('preHandler', async (request) => {
    const principal = request.principal;
    if (request.method !== 'POST' || !CHAT_PATHS.has(pathOf(request))) return;
    if (principal?.kind !== 'session' || principal.id === undefined) {
      if (isMember(request) && typeof request.headers[CONVERSATION_HEADER] === 'string') {
        const owner = await owners.ownerOf(request.headers[CONVERSATION_HEADER]);
        if (owner !== undefined) throw new ForbiddenError('this conversation belongs to someone else');
      }
      return;
    }
    const sent = conversationIdOf(request.headers[CONVERSATION_HEADER]);
    if (sent === undefined) {
      const id = randomUUID();
      await owners.claim(id, principal.id);
      request.conversationId = id;
      return;
    }
    const owner = await owners.ownerOf(sent);
    if (owner === undefined) await owners.claim(sent, principal.id);
    else if (owner !== principal.id && isMember(request)) {
      throw new ForbiddenError('this conversation belongs to someone else');
    }
    request.conversationId = sent;
  });

  app.get<{ Querystring: { limit?: string; offset?: string } }>(
    '/allerac/v1/conversations',
    { config: { access: 'signed-in' }, ...validatedBy({ querystring: ConversationListQuery }) },
    async (request): Promise<ConversationList> => {
      const limit = Math.min(200, Math.max(1, Number(request.query.limit ?? 50) || 50));
      const offset = Math.max(0, Number(request.query.offset ?? 0) || 0);
      if (!isMember(request))
        return { conversations: (await deps.store.conversations.list(limit, offset)).map(conversationView) };
      const mine = await owners.conversationsOf(request.principal!.id!);
      // Members usually have few conversations; filter a bounded window of recent ones.
      const recent = await deps.store.conversations.list(1000, 0);
      return {
        conversations: recent
          .filter((c) => mine.has(c.id))
          .slice(offset, offset + limit)
          .map(conversationView),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/allerac/v1/conversations/:id/messages',
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams }) },
    async (request): Promise<ConversationMessages> => {
      await assertMayRead(request, request.params.id);
      const messages = await deps.store.conversations.messages(request.params.id);
      if (messages.length === 0) throw new HttpError(404, 'no such conversation');
      return { id: request.params.id, messages: messages.map(messageView) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/allerac/v1/conversations/:id',
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams }) },
    async (request, reply) => {
      await assertMayRead(request, request.params.id);
      if (!(await deps.store.conversations.delete(request.params.id)))
        throw new HttpError(404, 'no such conversation');
      return reply.status(204).send();
    },
  );
}

const conversationView = (c: Conversation): ConversationHeader => ({
  id: c.id,
  title: c.title,
  source: c.source,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
  messageCount: c.messageCount,
});

const messageView = (m: StoredMessage): StoredMessageView => ({
  id: m.id,
  conversationId: m.conversationId,
  role: m.role,
  content: m.content,
  model: m.model,
  node: m.node,
  status: m.status,
  // What the recorder stored from the answer's final chunk (http/generation.ts).
  metadata: m.metadata as AnswerMetadata,
  createdAt: m.createdAt.toISOString(),
});
