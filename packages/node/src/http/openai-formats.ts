/**
 * How each OpenAI endpoint renders a generation, streamed (SSE) or whole: the glue between
 * serveGeneration and the pure conversions of openai-render.ts and openai-responses-render.ts.
 */
import { errorBody } from './errors.js';
import type { JsonFormat, StreamFormat } from './generation.js';
import {
  ChatChunkStream,
  chatCompletionId,
  completionId,
  readChatResponse,
  readGenerateResponse,
  toChatCompletion,
  toCompletion,
  toCompletionChunks,
} from './openai-render.js';
import {
  itemId,
  ResponsesStreamConverter,
  responseId,
  sseEvent,
  toResponse,
} from './openai-responses-render.js';
import type { ResponsesRequest } from './openai-schemas.js';

const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
const SSE = 'text/event-stream';

/** /v1/chat/completions: chat.completion.chunk events, then `data: [DONE]`. */
export function chatStreamFormat(model: string, includeUsage: boolean): StreamFormat {
  const stream = new ChatChunkStream(chatCompletionId(), model, includeUsage);
  return {
    contentType: SSE,
    chunk: (chunk, servedBy) => stream.render(chunk, servedBy).map(sse).join(''),
    error: (error) => sse(errorBody('openai', error)),
    trailer: () => 'data: [DONE]\n\n',
  };
}

/** /v1/chat/completions with `stream: false`. */
export function chatJsonFormat(model: string): JsonFormat {
  return (answer, servedBy) =>
    toChatCompletion(chatCompletionId(), model, readChatResponse(answer.toResponse()), servedBy);
}

/** /v1/completions: text_completion events, then `data: [DONE]`. */
export function completionStreamFormat(model: string, includeUsage: boolean): StreamFormat {
  const id = completionId();
  return {
    contentType: SSE,
    chunk: (chunk, servedBy) =>
      toCompletionChunks(id, model, chunk, includeUsage, servedBy).map(sse).join(''),
    error: (error) => sse(errorBody('openai', error)),
    trailer: () => 'data: [DONE]\n\n',
  };
}

/** /v1/completions with `stream: false`. */
export function completionJsonFormat(model: string): JsonFormat {
  return (answer, servedBy) =>
    toCompletion(completionId(), model, readGenerateResponse(answer.toResponse()), servedBy);
}

/** /v1/responses: named events from response.created to response.completed; no [DONE]. */
export function responsesStreamFormat(model: string, request: ResponsesRequest): StreamFormat {
  const converter = new ResponsesStreamConverter(responseId(), model, request);
  return {
    contentType: SSE,
    chunk: (chunk, servedBy) => converter.process(chunk, servedBy).map(sseEvent).join(''),
    error: (error) => converter.failed(error).map(sseEvent).join(''),
    trailer: () => '',
  };
}

/** /v1/responses with `stream: false`. */
export function responsesJsonFormat(model: string, request: ResponsesRequest): JsonFormat {
  return (answer, servedBy) =>
    toResponse(responseId(), itemId('msg'), model, answer.toResponse(), request, servedBy);
}
