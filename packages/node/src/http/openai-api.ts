import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { OllamaObject } from '../backend/backend.js';
import type { AnswerAggregate } from '../inference/aggregate.js';
import type { ServedBy } from '../inference/gateway.js';
import { BadRequestError, errorBody, HttpError } from './errors.js';
import { type GenerationContext, type StreamFormat, serveGeneration } from './generation.js';
import { CONVERSATION_HEADER, conversationIdOf, requestSignal } from './ollama-api.js';
import { BASE64_PATTERN } from './ollama-schemas.js';
import {
  ChatCompletionRequest,
  ModelParams,
  OpenAiEmbedRequest,
  type OpenAiMessage,
} from './openai-schemas.js';
import { requireModel, validatedBy } from './validate.js';

const unixSeconds = () => Math.floor(Date.now() / 1000);
const completionId = () => `chatcmpl-${randomBytes(12).toString('hex')}`;

/** OpenAI-compatible routes: /v1/models, /v1/chat/completions, /v1/embeddings. */
export function registerOpenAiApi(app: FastifyInstance, ctx: GenerationContext): void {
  app.get('/v1/models', { config: { access: 'local-or-token' } }, async () => ({
    object: 'list',
    data: (await ctx.gateway.models()).map(toOpenAiModel),
  }));

  app.get(
    '/v1/models/:model',
    { config: { access: 'local-or-token' }, ...validatedBy({ params: ModelParams }) },
    async (request) => {
      const { model: name } = request.params as ModelParams;
      const model = (await ctx.gateway.models()).find((m) => m.name === name);
      if (model === undefined) {
        throw new HttpError(
          404,
          `The model '${name}' does not exist`,
          'invalid_request_error',
          'model_not_found',
        );
      }
      return toOpenAiModel(model);
    },
  );

  app.post(
    '/v1/chat/completions',
    { config: { access: 'local-or-token' }, ...validatedBy({ body: ChatCompletionRequest }) },
    async (request, reply) => {
      const body = request.body as ChatCompletionRequest;
      const model = requireModel(body);
      const messages = body.messages ?? [];
      if (messages.length === 0) throw new BadRequestError('messages must be a non-empty array');
      const includeUsage = body.stream_options?.include_usage === true;
      const ollamaMessages = messages.map((message) => toOllamaMessage(message, messages));
      await serveGeneration(ctx, request, reply, {
        kind: 'chat',
        flavor: 'openai',
        model,
        ollamaRequest: {
          model,
          messages: ollamaMessages,
          options: toOllamaOptions(body),
          ...formatOf(body),
          ...(body.tools ? { tools: body.tools } : {}),
          // Allerac's own options (routing policy, memories opt-out) pass through to the gateway.
          ...(body.allerac ? { allerac: body.allerac } : {}),
        },
        stream: body.stream === true,
        record: {
          source: 'openai-api',
          messages: ollamaMessages.map((m) => ({ role: m.role, content: m.content })),
          conversationId: conversationIdOf(request.headers[CONVERSATION_HEADER]),
        },
        streamFormat: openAiStreamFormat(model, includeUsage),
        jsonFormat: (answer, servedBy) => toChatCompletion(model, answer, servedBy),
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
      reply.header('X-Allerac-Node', servedBy.node);
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

function toOpenAiModel(model: { name: string; modified_at?: string }) {
  const created = model.modified_at === undefined ? 0 : Math.floor(Date.parse(model.modified_at) / 1000);
  return {
    id: model.name,
    object: 'model',
    created: Number.isNaN(created) ? 0 : created,
    owned_by: 'library',
  };
}

const base64 = new RegExp(BASE64_PATTERN);

/** An Ollama chat message: text plus base64 images, tool calls with their arguments as objects. */
type OllamaChatMessage = { role: string; content: string; images?: string[] } & OllamaObject;

/** OpenAI message content may be a list of parts; Ollama takes text plus base64 images. */
function toOllamaMessage(message: OpenAiMessage, all: readonly OpenAiMessage[]): OllamaChatMessage {
  const role = message.role === 'developer' ? 'system' : message.role;
  const { content } = message;
  const out: OllamaChatMessage = { role, content: '' };
  if (typeof content === 'string') out.content = content;
  else if (Array.isArray(content)) {
    const images: string[] = [];
    for (const part of content) {
      if (part.type === 'text' && typeof part.text === 'string') out.content += part.text;
      else if (part.type === 'image_url') {
        const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
        const data =
          typeof url === 'string' && url.startsWith('data:') ? url.slice(url.indexOf(',') + 1) : '';
        if (!/^data:[^,]*;base64,/.test(url ?? '') || !base64.test(data)) {
          throw new BadRequestError('image_url must be a base64 data: URL; remote images are not fetched');
        }
        images.push(data);
      } else throw new BadRequestError(`unsupported content part type: ${String(part.type)}`);
    }
    if (images.length > 0) out.images = images;
  }
  if (message.tool_calls) out.tool_calls = message.tool_calls.map(toOllamaToolCall);
  if (typeof message.tool_call_id === 'string') out.tool_call_id = message.tool_call_id;
  if (role === 'tool') {
    const name = message.name || toolNameOf(message.tool_call_id, all);
    if (name) out.tool_name = name;
  }
  return out;
}

/** OpenAI sends a tool call's arguments as a JSON string; Ollama takes the object. */
function toOllamaToolCall(call: NonNullable<OpenAiMessage['tool_calls']>[number]): OllamaObject {
  const text = call.function?.arguments ?? '';
  let args: unknown = {};
  if (text.trim() !== '') {
    try {
      args = JSON.parse(text);
    } catch {
      args = undefined;
    }
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new BadRequestError('invalid tool call arguments: function.arguments must be a JSON object string');
  }
  return {
    ...(call.id ? { id: call.id } : {}),
    function: { name: call.function?.name ?? '', arguments: args },
  };
}

/** The function a tool result answers, found by its call id in the earlier messages. */
function toolNameOf(id: string | null | undefined, all: readonly OpenAiMessage[]): string | undefined {
  if (!id) return undefined;
  for (const message of all) {
    const call = message.tool_calls?.find((candidate) => candidate.id === id);
    if (call?.function?.name) return call.function.name;
  }
  return undefined;
}

function toOllamaOptions(body: ChatCompletionRequest): OllamaObject {
  const options: OllamaObject = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) {
    if (maxTokens < 1) throw new BadRequestError('max_tokens must be a positive number');
    options.num_predict = maxTokens;
  }
  for (const key of ['temperature', 'top_p', 'seed', 'frequency_penalty', 'presence_penalty'] as const) {
    const value = body[key];
    if (value !== undefined && value !== null) options[key] = value;
  }
  if (body.stop !== undefined && body.stop !== null)
    options.stop = Array.isArray(body.stop) ? body.stop : [body.stop];
  return options;
}

function formatOf(body: ChatCompletionRequest): OllamaObject {
  const format = body.response_format;
  if (format?.type === 'json_object') return { format: 'json' };
  if (format?.type === 'json_schema' && format.json_schema?.schema !== undefined)
    return { format: format.json_schema.schema };
  return {};
}

function finishReason(final: OllamaObject | undefined): string {
  if (final?.done_reason === 'length') return 'length';
  const message = final?.message as { tool_calls?: unknown[] } | undefined;
  if (Array.isArray(message?.tool_calls) && message.tool_calls.length > 0) return 'tool_calls';
  return 'stop';
}

function usageOf(final: OllamaObject | undefined) {
  const prompt = typeof final?.prompt_eval_count === 'number' ? final.prompt_eval_count : 0;
  const completion = typeof final?.eval_count === 'number' ? final.eval_count : 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function toChatCompletion(model: string, answer: AnswerAggregate, servedBy: ServedBy) {
  const message: Record<string, unknown> = { role: 'assistant', content: answer.content };
  if (answer.toolCalls.length > 0) message.tool_calls = openAiToolCalls(answer.toolCalls);
  return {
    id: completionId(),
    object: 'chat.completion',
    created: unixSeconds(),
    model,
    system_fingerprint: 'fp_allerac',
    choices: [
      {
        index: 0,
        message,
        finish_reason: answer.toolCalls.length > 0 ? 'tool_calls' : finishReason(answer.last),
      },
    ],
    usage: usageOf(answer.last),
    allerac: servedBy,
  };
}

function openAiToolCalls(calls: unknown[]) {
  return calls.map((call, index) => {
    const fn = (call as { function?: { name?: string; arguments?: unknown } }).function ?? {};
    return {
      id: `call_${index}_${randomBytes(4).toString('hex')}`,
      index,
      type: 'function',
      function: { name: fn.name ?? '', arguments: JSON.stringify(fn.arguments ?? {}) },
    };
  });
}

/** OpenAI's SSE chunks, ending with `data: [DONE]`; the final chunk carries `allerac`. */
function openAiStreamFormat(model: string, includeUsage: boolean): StreamFormat {
  const id = completionId();
  const created = unixSeconds();
  let first = true;
  const sse = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
  return {
    contentType: 'text/event-stream',
    chunk(chunk, servedBy) {
      const message = chunk.message as { content?: string; tool_calls?: unknown[] } | undefined;
      const delta: Record<string, unknown> = {};
      if (first) delta.role = 'assistant';
      first = false;
      if (typeof message?.content === 'string' && message.content !== '') delta.content = message.content;
      if (Array.isArray(message?.tool_calls) && message.tool_calls.length > 0)
        delta.tool_calls = openAiToolCalls(message.tool_calls);
      const done = chunk.done === true;
      const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_allerac' };
      let out = '';
      if (!done || Object.keys(delta).length > 0) {
        out += sse({ ...base, choices: [{ index: 0, delta, finish_reason: null }] });
      }
      if (done) {
        out += sse({
          ...base,
          choices: [{ index: 0, delta: {}, finish_reason: finishReason(chunk) }],
          allerac: servedBy,
        });
        if (includeUsage) out += sse({ ...base, choices: [], usage: usageOf(chunk) });
      }
      return out;
    },
    error: (error) => sse(errorBody('openai', error)),
    trailer: () => 'data: [DONE]\n\n',
  };
}

function toBase64Floats(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}
