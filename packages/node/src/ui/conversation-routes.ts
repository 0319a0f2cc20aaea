import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AnswerMetadata } from '../contract/chat.js';
import {
  type ConversationHeader,
  type ConversationList,
  type ConversationMessages,
  type ConversationSource,
  RenameConversationRequest,
  type StoredMessage as StoredMessageView,
} from '../contract/conversation.js';
import { ConversationListQuery, IdParams } from '../contract/query.js';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../errors.js';
import { HttpError } from '../http/errors.js';
import { CONVERSATION_HEADER, conversationIdOf } from '../http/ollama-api.js';
import { validatedBy } from '../http/validate.js';
import type { LiveAnswers } from '../inference/live-answers.js';
import type { Conversation, StoredMessage } from '../store/conversation-repository.js';
import type { Store } from '../store/store.js';
import { openSse } from './sse.js';

/** Chat endpoints whose conversations are recorded. */
const CHAT_PATHS = new Set(['/api/chat', '/api/generate', '/v1/chat/completions']);

const pathOf = (request: FastifyRequest) => request.url.split('?')[0]!;
const isMember = (request: FastifyRequest) => request.principal?.role === 'member';

/** What the stored row of an answer says while no live answer stands behind it any more. */
const ABANDONED_ERROR = 'the node stopped before the answer was finished';

/**
 * /allerac/v1/conversations: history from the store, and the answers being generated. Conversations
 * a UI user starts are claimed for them, so a member sees, continues and manages only their own;
 * admins may manage all.
 */
export function registerConversationRoutes(
  app: FastifyInstance,
  deps: { store: Store; logger: Logger; live: LiveAnswers },
): void {
  const owners = deps.store.conversationOwners;

  const assertMayRead = async (request: FastifyRequest, id: string) => {
    if (!isMember(request)) return;
    const owner = await owners.ownerOf(id);
    if (owner !== request.principal?.id) throw new HttpError(404, 'no such conversation');
  };

  /** For writes: a member may change only their own conversations (403 on someone else's). */
  const assertMayManage = async (request: FastifyRequest, id: string) => {
    if (!isMember(request)) return;
    const owner = await owners.ownerOf(id);
    if (owner !== undefined && owner !== request.principal?.id)
      throw new ForbiddenError('this conversation belongs to someone else');
    if (owner === undefined) throw new NotFoundError('no such conversation');
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

  app.get<{ Querystring: ConversationListQuery }>(
    '/allerac/v1/conversations',
    { config: { access: 'signed-in' }, ...validatedBy({ querystring: ConversationListQuery }) },
    async (request): Promise<ConversationList> => {
      const limit = Math.min(200, Math.max(1, Number(request.query.limit ?? 50) || 50));
      const offset = Math.max(0, Number(request.query.offset ?? 0) || 0);
      const source: ConversationSource = request.query.source ?? 'ui';
      const principal = request.principal;
      // `ui` is the caller's own chats from the web UI; a member only ever sees their own.
      const ownerId =
        isMember(request) || (source === 'ui' && principal?.kind === 'session') ? principal?.id : undefined;
      if (isMember(request) && ownerId === undefined) return { conversations: [] };
      const found = await deps.store.conversations.search({
        limit,
        offset,
        source,
        ownerId,
        text: request.query.q?.trim(),
      });
      return { conversations: found.map(conversationView) };
    },
  );

  app.patch<{ Params: IdParams; Body: RenameConversationRequest }>(
    '/allerac/v1/conversations/:id',
    {
      config: { access: 'signed-in' },
      ...validatedBy({ params: IdParams, body: RenameConversationRequest }),
    },
    async (request): Promise<ConversationHeader> => {
      const title = request.body.title.replace(/\s+/g, ' ').trim();
      if (title === '') throw new InvalidInputError('title must not be only spaces', { param: 'title' });
      await assertMayManage(request, request.params.id);
      if (!(await deps.store.conversations.rename(request.params.id, title)))
        throw new NotFoundError('no such conversation');
      const renamed = await deps.store.conversations.get(request.params.id);
      if (renamed === undefined) throw new NotFoundError('no such conversation');
      return conversationView(renamed);
    },
  );

  // Replays the answer under way and follows it to its end; 204 when nothing is generating, so
  // a page (or an EventSource, which does not reconnect on 204) learns there is nothing to wait for.
  app.get<{ Params: IdParams }>(
    '/allerac/v1/conversations/:id/live',
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams }) },
    async (request, reply) => {
      await assertMayManage(request, request.params.id);
      const answer = deps.live.get(request.params.id);
      if (answer === undefined) return reply.status(204).send();
      const sse = openSse(request, reply);
      try {
        for await (const event of answer.follow(sse.signal)) sse.send(event.type, event);
      } finally {
        sse.close();
      }
    },
  );

  app.post<{ Params: IdParams }>(
    '/allerac/v1/conversations/:id/stop',
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams }) },
    async (request, reply) => {
      await assertMayManage(request, request.params.id);
      deps.live.stop(request.params.id);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/allerac/v1/conversations/:id/messages',
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams }) },
    async (request): Promise<ConversationMessages> => {
      await assertMayRead(request, request.params.id);
      const messages = await deps.store.conversations.messages(request.params.id);
      if (messages.length === 0) throw new HttpError(404, 'no such conversation');
      const live = deps.live.get(request.params.id) !== undefined;
      return { id: request.params.id, messages: messages.map((m) => messageView(m, live)) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/allerac/v1/conversations/:id',
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams }) },
    async (request, reply) => {
      await assertMayManage(request, request.params.id);
      // An answer under way would write into a conversation that is gone.
      deps.live.get(request.params.id)?.stop();
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

/** A stored message; an answer still `generating` with nothing live behind it was cut off by a restart. */
const messageView = (m: StoredMessage, live: boolean): StoredMessageView => {
  const abandoned = m.status === 'generating' && !live;
  return {
    id: m.id,
    conversationId: m.conversationId,
    role: m.role,
    content: m.content,
    model: m.model,
    node: m.node,
    status: abandoned ? (m.content === '' ? 'failed' : 'partial') : m.status,
    // What the recorder stored from the answer's final chunk (http/generation.ts).
    metadata: (abandoned ? { ...m.metadata, error: ABANDONED_ERROR } : m.metadata) as AnswerMetadata,
    createdAt: m.createdAt.toISOString(),
  };
};
