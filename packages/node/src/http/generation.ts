import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { OllamaObject } from '../backend/backend.js';
import { AnswerAggregate } from '../inference/aggregate.js';
import type { ChatCaller, ChatContextHook } from '../inference/chat-context.js';
import type { ConversationRecorder } from '../inference/conversation-recorder.js';
import type {
  GenerationKind,
  InferenceGateway,
  InferenceStream,
  PrepareRequest,
  ServedBy,
} from '../inference/gateway.js';
import type { NewMessage } from '../store/conversation-repository.js';
import { type ApiFlavor, errorBody, type HttpError, toHttpError } from './errors.js';
import type { NodeMetrics } from './metrics.js';
import { abortOnClientClose, ClientGoneError, writeWithBackpressure } from './stream.js';

/** How one API family renders a streamed generation. */
export interface StreamFormat {
  contentType: string;
  /** Renders one chunk; `servedBy` is set on the final chunk only. */
  chunk(chunk: OllamaObject, servedBy: ServedBy | undefined): string;
  /** Renders an error that happens after the stream started, in the stream's own format. */
  error(error: HttpError): string;
  /** Anything written after the last chunk (OpenAI's `data: [DONE]`). */
  trailer(): string;
}

/** How one API family renders a whole (non-streamed) answer. */
export type JsonFormat = (answer: AnswerAggregate, servedBy: ServedBy) => Record<string, unknown>;

/** Everything a generation needs from the server. */
export interface GenerationContext {
  gateway: InferenceGateway;
  recorder: ConversationRecorder;
  metrics: NodeMetrics;
  logger: Logger;
  /** Aborted when the node shuts down and its grace period is over. */
  shutdownSignal: AbortSignal;
  /** Adds context to chats before they go out (memory-aware chat); absent means none. */
  chatContext?: ChatContextHook | undefined;
}

/** The header that turns memories off for one request (`X-Allerac-Memories: off`). */
export const MEMORIES_HEADER = 'x-allerac-memories';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The conversation a chat belongs to, when a hook settled it before the handler (the UI
     * claims a new one for its user); it wins over the X-Allerac-Conversation header.
     */
    conversationId?: string;
  }
}

/** One generation request, already validated and translated to Ollama's shape. */
export interface GenerationRequest {
  kind: GenerationKind;
  flavor: ApiFlavor;
  model: string;
  ollamaRequest: OllamaObject;
  stream: boolean;
  /** The question, stored with the answer. */
  record: { source: string; messages: NewMessage[]; conversationId?: string | undefined };
  streamFormat: StreamFormat;
  jsonFormat: JsonFormat;
}

/** Runs a generation through the gateway and answers the client, streaming or not. */
export async function serveGeneration(
  ctx: GenerationContext,
  request: FastifyRequest,
  reply: FastifyReply,
  generation: GenerationRequest,
): Promise<void> {
  const recording = ctx.recorder.begin(
    generation.record.source,
    generation.record.messages,
    request.conversationId ?? generation.record.conversationId,
  );
  reply.header('X-Allerac-Conversation', recording.conversationId);
  const clientAbort = abortOnClientClose(reply.raw);
  const signal = AbortSignal.any([clientAbort.signal, ctx.shutdownSignal]);
  const answer = new AnswerAggregate(generation.kind);
  const started = performance.now();
  let stream: InferenceStream;
  ctx.metrics.inflight.inc();
  try {
    let extra: Record<string, unknown> | undefined;
    try {
      let ollamaRequest = generation.ollamaRequest;
      let prepare: PrepareRequest | undefined;
      if (generation.kind === 'chat' && ctx.chatContext !== undefined) {
        const added = await ctx.chatContext(ollamaRequest, chatCaller(request, signal));
        ollamaRequest = added.request;
        extra = added.allerac;
        prepare = added.prepare;
      }
      stream = await ctx.gateway.generate(generation.kind, ollamaRequest, signal, prepare);
    } catch (error) {
      recording.finish({
        content: '',
        model: generation.model,
        status: 'failed',
        metadata: { error: String(error) },
      });
      if (clientAbort.signal.aborted) {
        reply.hijack();
        reply.raw.destroy();
        return;
      }
      throw error;
    }
    stream = withExtraMetadata(stream, extra ?? {});
    // The first chunk is written in this tick; the question's database write waits for the next.
    setImmediate(() => recording.storeQuestion());
    ctx.metrics.timeToFirstToken.observe(
      { model: generation.model, node: stream.firstChoice },
      (performance.now() - started) / 1000,
    );
    reply.header('X-Allerac-Node', stream.firstChoice);
    const failure = generation.stream
      ? await pipeStream(reply, generation.streamFormat, stream, answer, signal)
      : await collect(stream, answer, signal);
    const served = stream.servedBy();
    // Which memories went into the answer stays with the conversation, as the chat page shows it.
    const { memory, memories } = stream.preparedFor();
    recording.finish({
      content: answer.content,
      model: generation.model,
      node: served.node,
      status: failure === undefined ? 'complete' : 'partial',
      metadata: {
        failovers: served.failovers,
        ...(memory === undefined ? {} : { memory }),
        ...(memories === undefined ? {} : { memories }),
        ...(failure === undefined ? {} : { error: String(failure) }),
      },
    });
    countTokens(ctx.metrics, generation.model, served.node, answer.last);
    if (failure !== undefined && !(failure instanceof ClientGoneError)) {
      ctx.logger.warn({ err: failure, model: generation.model }, 'generation ended early');
    }
    if (!generation.stream) {
      if (failure === undefined) await reply.send(generation.jsonFormat(answer, served));
      else if (clientAbort.signal.aborted) {
        reply.hijack();
        reply.raw.destroy();
      } else throw failure;
    }
  } finally {
    ctx.metrics.inflight.dec();
  }
}

/** The caller of a chat as the chat hook sees it: no HTTP, only what it may act on. */
function chatCaller(request: FastifyRequest, signal: AbortSignal): ChatCaller {
  // OpenAI bodies are translated before the hook sees them; the opt-out is read from the original.
  const body = request.body as { allerac?: { memories?: unknown } } | undefined;
  return {
    principal: request.principal,
    memoriesOff:
      body?.allerac?.memories === false ||
      String(request.headers[MEMORIES_HEADER] ?? '').toLowerCase() === 'off',
    signal,
  };
}

/**
 * The same stream, with more fields on the final object's `allerac` next to node and failovers:
 * the hook's own, and what the preparation gave the node that served (e.g. the memories used).
 */
function withExtraMetadata(inner: InferenceStream, extra: Record<string, unknown>): InferenceStream {
  return {
    firstChoice: inner.firstChoice,
    first: inner.first,
    rest: inner.rest,
    servedBy: () => Object.assign({}, extra, inner.preparedFor(), inner.servedBy()),
    preparedFor: () => inner.preparedFor(),
  };
}

/** Streams chunks to the client; returns the error that cut the stream short, if any. */
async function pipeStream(
  reply: FastifyReply,
  format: StreamFormat,
  stream: InferenceStream,
  answer: AnswerAggregate,
  signal: AbortSignal,
): Promise<unknown> {
  reply.hijack();
  const res = reply.raw;
  const headers: Record<string, string> = {
    'Content-Type': format.contentType,
    'Cache-Control': 'no-cache',
    'X-Allerac-Node': stream.firstChoice,
  };
  const conversation = reply.getHeader('X-Allerac-Conversation');
  if (typeof conversation === 'string') headers['X-Allerac-Conversation'] = conversation;
  res.writeHead(200, headers);
  const iterator = stream.rest[Symbol.asyncIterator]();
  let failure: unknown;
  try {
    let chunk: OllamaObject | undefined = stream.first;
    while (chunk !== undefined) {
      answer.add(chunk);
      const isFinal = chunk.done === true;
      if (!(await writeWithBackpressure(res, format.chunk(chunk, isFinal ? stream.servedBy() : undefined)))) {
        throw signal.aborted ? signal.reason : new ClientGoneError();
      }
      if (isFinal) break;
      const next = await iterator.next();
      chunk = next.done ? undefined : next.value;
    }
    if (!answer.done) throw new Error('the answer stream ended before it was done');
  } catch (error) {
    failure = error;
    if (!res.destroyed && !(error instanceof ClientGoneError)) {
      res.write(format.error(toHttpError(signal.aborted ? signal.reason : error)));
    }
  } finally {
    await iterator.return?.();
    if (!res.destroyed) res.end(failure === undefined ? format.trailer() : undefined);
  }
  return failure;
}

/** Reads the whole answer; returns the error that cut it short, if any. */
async function collect(
  stream: InferenceStream,
  answer: AnswerAggregate,
  signal: AbortSignal,
): Promise<unknown> {
  try {
    answer.add(stream.first);
    if (!answer.done) {
      for await (const chunk of stream.rest) {
        answer.add(chunk);
        if (answer.done) break;
      }
    }
    if (!answer.done) return new Error('the answer stream ended before it was done');
    return undefined;
  } catch (error) {
    return signal.aborted ? signal.reason : error;
  }
}

function countTokens(
  metrics: NodeMetrics,
  model: string,
  node: string,
  final: OllamaObject | undefined,
): void {
  if (final === undefined) return;
  if (typeof final.eval_count === 'number')
    metrics.tokens.inc({ model, node, kind: 'output' }, final.eval_count);
  if (typeof final.prompt_eval_count === 'number') {
    metrics.tokens.inc({ model, node, kind: 'prompt' }, final.prompt_eval_count);
  }
}

/** Ollama's NDJSON stream, with `allerac: { node, failovers }` on the final object. */
export const ollamaStreamFormat: StreamFormat = {
  contentType: 'application/x-ndjson',
  chunk: (chunk, servedBy) =>
    `${JSON.stringify(servedBy === undefined ? chunk : { ...chunk, allerac: servedBy })}\n`,
  error: (error) => `${JSON.stringify(errorBody('ollama', error))}\n`,
  trailer: () => '',
};

/** Ollama's `stream: false` body: the final object with the whole text. */
export const ollamaJsonFormat: JsonFormat = (answer, servedBy) => ({
  ...answer.toResponse(),
  allerac: servedBy,
});
