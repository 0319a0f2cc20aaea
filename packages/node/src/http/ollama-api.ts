import type { FastifyInstance } from 'fastify';
import type { OllamaObject } from '../backend/backend.js';
import type { NewMessage } from '../store/conversation-repository.js';
import {
  type GenerationContext,
  ollamaJsonFormat,
  ollamaStreamFormat,
  serveGeneration,
} from './generation.js';
import { encodeNodeHeader, NODE_HEADER } from './node-header.js';
import {
  ChatRequest,
  EmbeddingsRequest,
  EmbedRequest,
  GenerateRequest,
  type Message,
  ShowRequest,
} from './ollama-schemas.js';
import { abortOnClientClose } from './stream.js';
import { requireModel, validatedBy } from './validate.js';

/** The header a client (the web UI) uses to continue a stored conversation. */
export const CONVERSATION_HEADER = 'x-allerac-conversation';

/** Ollama-compatible routes: /api/version, tags, ps, show, chat, generate, embed, embeddings. */
export function registerOllamaApi(app: FastifyInstance, ctx: GenerationContext): void {
  // The Ollama version the home runs, not this node's own: clients gate features on it.
  app.get('/api/version', { config: { access: 'local-or-token' } }, async () => ({
    version: await ctx.gateway.version(),
  }));

  app.get('/api/tags', { config: { access: 'local-or-token' } }, async () => ({
    models: await ctx.gateway.models(),
  }));

  app.get('/api/ps', { config: { access: 'local-or-token' } }, async () => ({
    models: await ctx.gateway.loaded(),
  }));

  app.post(
    '/api/show',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: ShowRequest }) },
    async (request) => {
      const body = request.body as ShowRequest;
      // Older clients send `name` instead of `model`.
      const model = requireModel({ model: body.model || body.name });
      return ctx.gateway.show({ ...body, model });
    },
  );

  app.post(
    '/api/chat',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: ChatRequest }) },
    async (request, reply) => {
      const body = request.body as ChatRequest;
      const model = requireModel(body);
      await serveGeneration(ctx, request, reply, {
        kind: 'chat',
        flavor: 'ollama',
        model,
        ollamaRequest: body as OllamaObject,
        stream: body.stream !== false,
        record: {
          source: 'ollama-api',
          messages: (body.messages ?? []).map(toStoredMessage),
          conversationId: conversationIdOf(request.headers[CONVERSATION_HEADER]),
        },
        streamFormat: ollamaStreamFormat,
        jsonFormat: ollamaJsonFormat,
      });
    },
  );

  app.post(
    '/api/generate',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: GenerateRequest }) },
    async (request, reply) => {
      const body = request.body as GenerateRequest;
      const model = requireModel(body);
      await serveGeneration(ctx, request, reply, {
        kind: 'generate',
        flavor: 'ollama',
        model,
        ollamaRequest: body as OllamaObject,
        stream: body.stream !== false,
        record: { source: 'ollama-api', messages: [{ role: 'user', content: body.prompt ?? '' }] },
        streamFormat: ollamaStreamFormat,
        jsonFormat: ollamaJsonFormat,
      });
    },
  );

  app.post(
    '/api/embed',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: EmbedRequest }) },
    async (request, reply) => {
      const body = request.body as EmbedRequest;
      requireModel(body);
      const { response, servedBy } = await ctx.gateway.embed(
        body as OllamaObject,
        requestSignal(reply.raw, ctx),
      );
      reply.header(NODE_HEADER, encodeNodeHeader(servedBy.node));
      return { ...response, allerac: servedBy };
    },
  );

  // The legacy single-prompt endpoint, still used by older clients (LangChain's OllamaEmbeddings).
  app.post(
    '/api/embeddings',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: EmbeddingsRequest }) },
    async (request, reply) => {
      const body = request.body as EmbeddingsRequest;
      const model = requireModel(body);
      // An empty prompt gets an empty embedding, as from Ollama (which only loads the model).
      const { response, servedBy } = await ctx.gateway.embed(
        {
          model,
          input: body.prompt ?? '',
          options: body.options,
          keep_alive: body.keep_alive,
          ...(body.allerac ? { allerac: body.allerac } : {}),
        },
        requestSignal(reply.raw, ctx),
      );
      reply.header(NODE_HEADER, encodeNodeHeader(servedBy.node));
      const [embedding] = (response.embeddings as number[][] | undefined) ?? [];
      return { embedding: embedding ?? [] };
    },
  );
}

function toStoredMessage(message: Message): NewMessage {
  return { role: message.role, content: message.content ?? '' };
}

/** A conversation id from the header, when it is a plausible id. */
export function conversationIdOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && /^[\w-]{1,64}$/.test(header) ? header : undefined;
}

/** Aborts when the client leaves or the node shuts down. */
export function requestSignal(res: import('node:http').ServerResponse, ctx: GenerationContext): AbortSignal {
  return AbortSignal.any([abortOnClientClose(res).signal, ctx.shutdownSignal]);
}
