import type { FastifyInstance } from 'fastify';
import type { OllamaObject } from '../backend/backend.js';
import type { NewMessage } from '../store/conversation-repository.js';
import { BadRequestError } from './errors.js';
import {
  type GenerationContext,
  ollamaJsonFormat,
  ollamaStreamFormat,
  serveGeneration,
} from './generation.js';
import { abortOnClientClose } from './stream.js';
import { optional, requireInput, requireMessages, requireModel, requireObject } from './validate.js';

/** The header a client (the web UI) uses to continue a stored conversation. */
export const CONVERSATION_HEADER = 'x-allerac-conversation';

/** Ollama-compatible routes: /api/version, tags, ps, show, chat, generate, embed, embeddings. */
export function registerOllamaApi(
  app: FastifyInstance,
  ctx: GenerationContext,
  softwareVersion: string,
): void {
  app.get('/api/version', { config: { access: 'local-or-token' } }, async () => ({ version: softwareVersion }));

  app.get('/api/tags', { config: { access: 'local-or-token' } }, async () => ({ models: await ctx.gateway.models() }));

  app.get('/api/ps', { config: { access: 'local-or-token' } }, async () => ({ models: await ctx.gateway.loaded() }));

  app.post('/api/show', { config: { access: 'local-or-token' } }, async (request) => {
    const body = requireObject(request.body);
    // Older clients send `name` instead of `model`.
    const model = body.model ?? body.name;
    requireModel({ model });
    return ctx.gateway.show({ ...body, model });
  });

  app.post('/api/chat', { config: { access: 'local-or-token' } }, async (request, reply) => {
    const body = requireObject(request.body);
    const model = requireModel(body);
    const messages = requireMessages(body);
    validateGenerationOptions(body);
    await serveGeneration(ctx, request, reply, {
      kind: 'chat',
      flavor: 'ollama',
      model,
      ollamaRequest: body,
      stream: body.stream !== false,
      record: {
        source: 'ollama-api',
        messages: messages.map(toStoredMessage),
        conversationId: conversationIdOf(request.headers[CONVERSATION_HEADER]),
      },
      streamFormat: ollamaStreamFormat,
      jsonFormat: ollamaJsonFormat,
    });
  });

  app.post('/api/generate', { config: { access: 'local-or-token' } }, async (request, reply) => {
    const body = requireObject(request.body);
    const model = requireModel(body);
    optional(body, 'prompt', 'string');
    optional(body, 'system', 'string');
    validateGenerationOptions(body);
    await serveGeneration(ctx, request, reply, {
      kind: 'generate',
      flavor: 'ollama',
      model,
      ollamaRequest: body,
      stream: body.stream !== false,
      record: {
        source: 'ollama-api',
        messages: [{ role: 'user', content: typeof body.prompt === 'string' ? body.prompt : '' }],
      },
      streamFormat: ollamaStreamFormat,
      jsonFormat: ollamaJsonFormat,
    });
  });

  app.post('/api/embed', { config: { access: 'local-or-token' } }, async (request, reply) => {
    const body = requireObject(request.body);
    requireModel(body);
    requireInput(body);
    const { response, servedBy } = await ctx.gateway.embed(body, requestSignal(reply.raw, ctx));
    reply.header('X-Allerac-Node', servedBy.node);
    return { ...response, allerac: servedBy };
  });

  // The legacy single-prompt endpoint, still used by older clients (LangChain's OllamaEmbeddings).
  app.post('/api/embeddings', { config: { access: 'local-or-token' } }, async (request, reply) => {
    const body = requireObject(request.body);
    requireModel(body);
    if (typeof body.prompt !== 'string') throw new BadRequestError('prompt must be a string');
    const { response, servedBy } = await ctx.gateway.embed(
      { model: body.model, input: body.prompt, options: body.options, keep_alive: body.keep_alive },
      requestSignal(reply.raw, ctx),
    );
    reply.header('X-Allerac-Node', servedBy.node);
    const [embedding] = (response.embeddings as number[][] | undefined) ?? [];
    return { embedding: embedding ?? [] };
  });
}

function validateGenerationOptions(body: OllamaObject): void {
  optional(body, 'stream', 'boolean');
  optional(body, 'options', 'object');
}

function toStoredMessage(message: Record<string, unknown>): NewMessage {
  return { role: String(message.role), content: typeof message.content === 'string' ? message.content : '' };
}

/** A conversation id from the header, when it is a plausible id. */
export function conversationIdOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && /^[\w-]{1,64}$/.test(header) ? header : undefined;
}

/** Aborts when the client leaves or the node shuts down. */
export function requestSignal(res: import('node:http').ServerResponse, ctx: GenerationContext): AbortSignal {
  return AbortSignal.any([abortOnClientClose(res).signal, ctx.shutdownSignal]);
}
