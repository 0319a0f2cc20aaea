import { normalizeModelName } from '@allerac/router';
import type { FastifyInstance } from 'fastify';
import type { OllamaObject } from '../backend/backend.js';
import { ModelNotFoundError } from '../inference/errors.js';
import type { NewMessage } from '../store/conversation-repository.js';
import { BadRequestError } from './errors.js';
import { type GenerationContext, serveGeneration } from './generation.js';
import { encodeNodeHeader, NODE_HEADER } from './node-header.js';
import { CONVERSATION_HEADER, conversationIdOf, requestSignal } from './ollama-api.js';
import {
  chatJsonFormat,
  chatStreamFormat,
  completionJsonFormat,
  completionStreamFormat,
  responsesJsonFormat,
  responsesStreamFormat,
} from './openai-formats.js';
import { toOpenAiModel } from './openai-render.js';
import { fromResponsesRequest } from './openai-responses-request.js';
import {
  ChatCompletionRequest,
  CompletionRequest,
  ModelParams,
  OpenAiEmbedRequest,
  ResponsesRequest,
} from './openai-schemas.js';
import { fromChatRequest, fromCompletionRequest } from './openai-translate.js';
import { requireModel, validatedBy } from './validate.js';

/**
 * OpenAI-compatible routes, as Ollama's own /v1 serves them: /v1/models (and one model),
 * /v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings. Requests are translated
 * to Ollama's shape (openai-translate.ts, openai-responses-request.ts) and answers back
 * (openai-formats.ts); the gateway serves them like any /api request.
 */
export function registerOpenAiApi(app: FastifyInstance, ctx: GenerationContext): void {
  app.get('/v1/models', { config: { access: 'local-or-token' } }, async () => ({
    object: 'list',
    data: (await ctx.gateway.models()).map((m) => toOpenAiModel(m.model || m.name, m.modified_at)),
  }));

  const retrieveModel = async (name: string) => {
    // As Ollama: `llama3.2` is `llama3.2:latest`, names compare case-insensitively, and the id
    // is the name as asked.
    const wanted = normalizeModelName(name);
    const model = (await ctx.gateway.models()).find((m) => normalizeModelName(m.name) === wanted);
    if (model === undefined) throw new ModelNotFoundError(name, `model '${withTag(name)}' not found`);
    return toOpenAiModel(name, model.modified_at);
  };

  // An agent's id holds a slash (`agent/research`): clients that do not encode it reach this one.
  app.get(
    '/v1/models/agent/:model',
    { config: { access: 'local-or-token' }, ...validatedBy({ params: ModelParams }) },
    async (request) => retrieveModel(`agent/${(request.params as ModelParams).model}`),
  );

  app.get(
    '/v1/models/:model',
    { config: { access: 'local-or-token' }, ...validatedBy({ params: ModelParams }) },
    async (request) => retrieveModel((request.params as ModelParams).model),
  );

  app.post(
    '/v1/chat/completions',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: ChatCompletionRequest }) },
    async (request, reply) => {
      const body = request.body as ChatCompletionRequest;
      const model = requireModel(body);
      const ollamaRequest = fromChatRequest(body);
      await serveGeneration(ctx, request, reply, {
        kind: 'chat',
        flavor: 'openai',
        model,
        ollamaRequest,
        stream: body.stream === true,
        record: {
          source: 'openai-api',
          messages: storedMessages(ollamaRequest),
          conversationId: conversationIdOf(request.headers[CONVERSATION_HEADER]),
        },
        streamFormat: chatStreamFormat(model, body.stream_options?.include_usage === true),
        jsonFormat: chatJsonFormat(model),
      });
    },
  );

  app.post(
    '/v1/completions',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: CompletionRequest }) },
    async (request, reply) => {
      const body = request.body as CompletionRequest;
      const model = requireModel(body);
      await serveGeneration(ctx, request, reply, {
        kind: 'generate',
        flavor: 'openai',
        model,
        ollamaRequest: fromCompletionRequest(body),
        stream: body.stream === true,
        record: { source: 'openai-api', messages: [{ role: 'user', content: body.prompt ?? '' }] },
        streamFormat: completionStreamFormat(model, body.stream_options?.include_usage === true),
        jsonFormat: completionJsonFormat(model),
      });
    },
  );

  app.post(
    '/v1/responses',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: ResponsesRequest }) },
    async (request, reply) => {
      const body = request.body as ResponsesRequest;
      const model = requireModel(body);
      const ollamaRequest = fromResponsesRequest(body);
      await serveGeneration(ctx, request, reply, {
        kind: 'chat',
        flavor: 'openai',
        model,
        ollamaRequest,
        stream: body.stream === true,
        record: {
          source: 'openai-api',
          messages: storedMessages(ollamaRequest),
          conversationId: conversationIdOf(request.headers[CONVERSATION_HEADER]),
        },
        streamFormat: responsesStreamFormat(model, body),
        jsonFormat: responsesJsonFormat(model, body),
      });
    },
  );

  app.post(
    '/v1/embeddings',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: OpenAiEmbedRequest }) },
    async (request, reply) => {
      const body = request.body as OpenAiEmbedRequest;
      const model = requireModel(body);
      // Ollama compares the format case-insensitively.
      const encoding = (body.encoding_format || 'float').toLowerCase();
      if (encoding !== 'float' && encoding !== 'base64') {
        throw new BadRequestError('encoding_format must be "float" or "base64"');
      }
      const request_: OllamaObject = { model, input: body.input };
      if (typeof body.dimensions === 'number') request_.dimensions = body.dimensions;
      const { response, servedBy } = await ctx.gateway.embed(request_, requestSignal(reply.raw, ctx));
      reply.header(NODE_HEADER, encodeNodeHeader(servedBy.node));
      const embeddings = (response.embeddings as number[][] | undefined) ?? [];
      const promptTokens = typeof response.prompt_eval_count === 'number' ? response.prompt_eval_count : 0;
      return {
        object: 'list',
        data: embeddings.map((embedding, index) => ({
          object: 'embedding',
          index,
          embedding: encoding === 'base64' ? toBase64Floats(embedding) : embedding,
        })),
        model,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
        allerac: servedBy,
      };
    },
  );
}

/** The question as the conversation store keeps it: role and text. */
function storedMessages(request: OllamaObject): NewMessage[] {
  return ((request.messages ?? []) as Array<{ role: string; content?: string }>).map((m) => ({
    role: m.role,
    content: m.content ?? '',
  }));
}

/** A model name with Ollama's default tag when it has none. */
function withTag(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1).includes(':') ? name : `${name}:latest`;
}

function toBase64Floats(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}
