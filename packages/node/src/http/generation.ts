import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { OllamaObject } from '../backend/backend.js';
import { ollamaLine } from '../backend/ndjson-request.js';
import type { AnswerAggregate } from '../inference/aggregate.js';
import type { ChatCaller, ChatContextHook } from '../inference/chat-context.js';
import type { ConversationRecorder, RecordedAnswer } from '../inference/conversation-recorder.js';
import { detachStream } from '../inference/detached-stream.js';
import type {
  GenerationKind,
  InferenceGateway,
  InferenceStream,
  PrepareRequest,
  ServedBy,
  ServingNode,
} from '../inference/gateway.js';
import { AnswerStoppedError, type LiveAnswer } from '../inference/live-answers.js';
import { type NewMessage, UI_SOURCE } from '../store/conversation-repository.js';
import { type ApiFlavor, errorBody, type HttpError, toHttpError } from './errors.js';
import type { NodeMetrics } from './metrics.js';
import { encodeNodeHeader, NODE_HEADER } from './node-header.js';
import { abortOnClientClose, ClientGoneError, TurnWriter } from './stream.js';

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

/**
 * Whether the node the answer went to had the model in memory (`loaded`) or loads it first
 * (`cold`, so the first token comes late). Web UI chats get the headers before the first token.
 */
export const MODEL_STATE_HEADER = 'X-Allerac-Model-State';

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
  // A chat from a signed-in page runs on when the page goes away (a reload, a closed tab): the
  // node reads it to the end and records it, and the page picks it up again (/live). Any other
  // client's chat is cancelled when that client leaves, as Ollama does.
  const liveId = request.principal?.kind === 'session' ? request.conversationId : undefined;
  const live = liveId === undefined ? undefined : ctx.recorder.live.begin(liveId, generation.model);
  const recording = ctx.recorder.begin(
    live === undefined ? generation.record.source : UI_SOURCE,
    generation.record.messages,
    request.conversationId ?? generation.record.conversationId,
    live === undefined ? {} : { placeholderModel: generation.model },
  );
  // The page that reloads before the first token finds its question and the answer under way.
  if (live !== undefined) recording.storeQuestion();
  reply.header('X-Allerac-Conversation', recording.conversationId);
  const clientAbort = abortOnClientClose(reply.raw);
  const signal = AbortSignal.any([live?.signal ?? clientAbort.signal, ctx.shutdownSignal]);
  const started = performance.now();
  let stream: InferenceStream;
  let handedOff = false;
  // The web UI is told where its answer goes before the first token, so it can say that a model
  // is loading; other clients get headers with the first chunk, so a failure before it keeps its
  // status (503, 502), as from Ollama.
  const early = live !== undefined && generation.stream;
  const placed = (node: ServingNode) => {
    const state = node.modelLoaded === undefined ? undefined : node.modelLoaded ? 'loaded' : 'cold';
    if (state === undefined) reply.removeHeader(MODEL_STATE_HEADER);
    else reply.header(MODEL_STATE_HEADER, state);
    live?.serving(node.name, state ?? null);
    if (early && !reply.raw.headersSent) {
      reply.hijack();
      reply.raw.writeHead(200, streamHeaders(reply, generation.streamFormat, node.name));
      // writeHead only queues them; the page is to have them now, not with the first token.
      reply.raw.flushHeaders();
    }
  };
  ctx.metrics.inflight.inc();
  try {
    let extra: Record<string, unknown> | undefined;
    try {
      let ollamaRequest = generation.ollamaRequest;
      let prepare: PrepareRequest | undefined;
      if (generation.kind === 'chat' && ctx.chatContext !== undefined) {
        const added = await ctx.chatContext(ollamaRequest, {
          ...chatCaller(request, signal),
          conversationId: recording.conversationId,
        });
        ollamaRequest = added.request;
        extra = added.allerac;
        prepare = added.prepare;
      }
      // The conversation's next turn prefers the node whose KV cache holds its prefix.
      const conversation = request.conversationId ?? generation.record.conversationId;
      if (conversation !== undefined) {
        const routing = typeof ollamaRequest.allerac === 'object' ? ollamaRequest.allerac : {};
        ollamaRequest = { ...ollamaRequest, allerac: { ...routing, conversation } };
      }
      stream = await ctx.gateway.generate(
        generation.kind,
        ollamaRequest,
        signal,
        announcing(placed, prepare),
      );
    } catch (error) {
      const stopped = error instanceof AnswerStoppedError;
      const written = recording.finish({
        content: '',
        model: generation.model,
        status: stopped ? 'stopped' : 'failed',
        metadata: stopped ? {} : { error: String(error) },
      });
      if (live !== undefined) settleLive(ctx, live, stopped ? 'stopped' : 'failed', error, written);
      if (clientAbort.signal.aborted) {
        reply.hijack();
        reply.raw.destroy();
        return;
      }
      if (reply.raw.headersSent) {
        // Told the node already: the failure goes in the stream, as a mid-answer one does.
        reply.raw.end(generation.streamFormat.error(toHttpError(error)));
        return;
      }
      throw error;
    }
    stream = withExtraMetadata(stream, extra ?? {});
    // The first chunk is written in this tick; the question's database write waits for the next.
    if (live === undefined) setImmediate(() => recording.storeQuestion());
    ctx.metrics.timeToFirstToken.observe(
      { model: generation.model, node: stream.firstChoice },
      (performance.now() - started) / 1000,
    );
    reply.header(NODE_HEADER, encodeNodeHeader(stream.firstChoice));
    const generated = stream;
    const record = (failure: unknown): Promise<void> => {
      const answered = recordedAnswer(generation.model, generated, failure);
      const written = recording.finish(answered);
      countTokens(ctx.metrics, generation.model, generated.servedBy().node, generated.answer.last);
      if (answered.status === 'partial' && !(failure instanceof ClientGoneError)) {
        ctx.logger.warn({ err: failure, model: generation.model }, 'generation ended early');
      }
      if (live !== undefined) settleLive(ctx, live, answered.status, failure, written);
      return written;
    };
    let failure: unknown;
    // The gateway accumulates the answer once; the recorder, the live view and the JSON read it.
    const answer = stream.answer;
    if (live === undefined) {
      failure = generation.stream
        ? await pipeStream(reply, generation.streamFormat, stream, signal)
        : await collect(stream, signal);
      void record(failure);
    } else {
      let appended = 0;
      // Each batch is in the answer already when it is handed on: the live view gets the new text.
      const detached = detachStream(stream, () => {
        live.append(answer.content.slice(appended));
        appended = answer.content.length;
      });
      handedOff = true;
      ctx.recorder.keep(
        detached.ended.then(record).finally(() => {
          ctx.metrics.inflight.dec();
        }),
      );
      failure = generation.stream
        ? await pipeStream(reply, generation.streamFormat, detached.view, clientAbort.signal)
        : await collect(detached.view, clientAbort.signal);
    }
    const served = stream.servedBy();
    if (!generation.stream) {
      if (failure === undefined) await reply.send(generation.jsonFormat(answer, served));
      else if (clientAbort.signal.aborted) {
        reply.hijack();
        reply.raw.destroy();
      } else throw failure;
    }
  } finally {
    if (!handedOff) ctx.metrics.inflight.dec();
  }
}

/** What is stored of an answer once its generation ended. */
function recordedAnswer(model: string, stream: InferenceStream, failure: unknown): RecordedAnswer {
  const served = stream.servedBy();
  // Which memories went into the answer stays with the conversation, as the chat page shows it.
  const { memory, memories, toolCalls, toolLoopStopped } = stream.preparedFor();
  const stopped = failure instanceof AnswerStoppedError;
  return {
    content: stream.answer.content,
    model,
    node: served.node,
    status: failure === undefined ? 'complete' : stopped ? 'stopped' : 'partial',
    metadata: {
      failovers: served.failovers,
      ...(memory === undefined ? {} : { memory }),
      ...(memories === undefined ? {} : { memories }),
      // So does what the agent's tools did (a light turned off), and why its loop stopped early.
      ...(toolCalls === undefined ? {} : { toolCalls }),
      ...(toolLoopStopped === undefined ? {} : { toolLoopStopped }),
      ...(failure === undefined || stopped ? {} : { error: String(failure) }),
    },
  };
}

/** Tells the followers how a live answer ended; it leaves the registry once it is stored. */
function settleLive(
  ctx: GenerationContext,
  live: LiveAnswer,
  status: RecordedAnswer['status'],
  failure: unknown,
  written: Promise<void>,
): void {
  live.end(status, failure === undefined || status === 'stopped' ? undefined : String(failure));
  void written.finally(() => ctx.recorder.live.drop(live));
}

/** The chat's preparation, telling `placed` first which node each attempt goes to. */
function announcing(
  placed: (node: ServingNode) => void,
  prepare: PrepareRequest | undefined,
): PrepareRequest {
  return async (body, node) => {
    placed(node);
    return prepare === undefined ? { body } : prepare(body, node);
  };
}

/** The headers of a streamed answer. */
function streamHeaders(reply: FastifyReply, format: StreamFormat, node: string): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': format.contentType,
    'Cache-Control': 'no-cache',
    [NODE_HEADER]: encodeNodeHeader(node),
  };
  for (const name of ['X-Allerac-Conversation', MODEL_STATE_HEADER]) {
    const value = reply.getHeader(name);
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
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
    answer: inner.answer,
    servedBy: () => Object.assign({}, extra, inner.preparedFor(), inner.servedBy()),
    preparedFor: () => inner.preparedFor(),
  };
}

/** Streams chunks to the client; returns the error that cut the stream short, if any. */
async function pipeStream(
  reply: FastifyReply,
  format: StreamFormat,
  stream: InferenceStream,
  signal: AbortSignal,
): Promise<unknown> {
  reply.hijack();
  const res = reply.raw;
  const headers: Record<string, string> = {
    'Content-Type': format.contentType,
    'Cache-Control': 'no-cache',
    [NODE_HEADER]: encodeNodeHeader(stream.firstChoice),
  };
  const conversation = reply.getHeader('X-Allerac-Conversation');
  if (typeof conversation === 'string') headers['X-Allerac-Conversation'] = conversation;
  const modelState = reply.getHeader(MODEL_STATE_HEADER);
  if (typeof modelState === 'string') headers[MODEL_STATE_HEADER] = modelState;
  // A web UI chat had its headers at placement (see `placed` in serveGeneration).
  if (!res.headersSent) res.writeHead(200, headers);
  const iterator = stream.rest[Symbol.asyncIterator]();
  const out = new TurnWriter(res);
  let failure: unknown;
  try {
    let batch: readonly OllamaObject[] | undefined = [stream.first];
    let finished = false;
    while (batch !== undefined && !finished) {
      for (const chunk of batch) {
        finished = chunk.done === true;
        // Only a full socket makes the write a promise: no microtask per chunk otherwise.
        const written = out.write(format.chunk(chunk, finished ? stream.servedBy() : undefined));
        if (written !== true && !(await written)) {
          throw signal.aborted ? signal.reason : new ClientGoneError();
        }
        if (finished) break;
      }
      if (finished) break;
      const next = await iterator.next();
      batch = next.done ? undefined : next.value;
    }
    if (!finished) throw new Error('the answer stream ended before it was done');
  } catch (error) {
    failure = error;
    if (!res.destroyed && !(error instanceof ClientGoneError)) {
      void out.write(format.error(toHttpError(signal.aborted ? signal.reason : error)));
    }
  } finally {
    await iterator.return?.();
    out.end(failure === undefined ? format.trailer() : '');
  }
  return failure;
}

/** Reads the whole answer; returns the error that cut it short, if any. */
async function collect(stream: InferenceStream, signal: AbortSignal): Promise<unknown> {
  try {
    let finished = stream.first.done === true;
    if (!finished) {
      for await (const batch of stream.rest) {
        finished = batch.some((chunk) => chunk.done === true);
        if (finished) break;
      }
    }
    if (!finished) return new Error('the answer stream ended before it was done');
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
  // A chunk as Ollama sent it goes out as its own line: no re-encoding per token.
  chunk: (chunk, servedBy) =>
    servedBy === undefined
      ? `${ollamaLine(chunk) ?? JSON.stringify(chunk)}\n`
      : `${JSON.stringify({ ...chunk, allerac: servedBy })}\n`,
  error: (error) => `${JSON.stringify(errorBody('ollama', error))}\n`,
  trailer: () => '',
};

/** Ollama's `stream: false` body: the final object with the whole text. */
export const ollamaJsonFormat: JsonFormat = (answer, servedBy) => ({
  ...answer.toResponse(),
  allerac: servedBy,
});
