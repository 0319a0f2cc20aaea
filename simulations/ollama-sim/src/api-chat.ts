/**
 * POST /api/chat and /api/generate, in the order of Ollama's ChatHandler and GenerateHandler
 * (server/routes.go): decode the body, find the model, unload, check thinking and capabilities,
 * load, then generate.
 */
import type { ServerResponse } from 'node:http';
import { capabilityError, missingCapabilities } from './capabilities.js';
import type { ClientWatch } from './client-watch.js';
import { OllamaApiError } from './errors.js';
import { type GenerationMetrics, type ReplyText, runGeneration } from './generation.js';
import { type JsonObject, numPredictOf, sendJson } from './http-util.js';
import { installedModel, notFoundQuoted, validModelRef } from './model-lookup.js';
import { fullModelName, parseModelName } from './model-name.js';
import type { InstalledModel } from './models.js';
import type { PromptSegment } from './prompt-cache.js';
import {
  planReply,
  type ReplyPiece,
  scriptedPlan,
  scriptedToolCalls,
  type ThinkSetting,
  type ToolSpec,
} from './reply.js';
import { type InferenceRequest, parseChatRequest, parseFormat, parseGenerateRequest } from './requests.js';
import type { SimState } from './state.js';
import {
  type ApiMessage,
  type ChatMessage,
  contextIds,
  countPromptTokens,
  countTokens,
  fromApiMessages,
} from './text.js';
import type { Capability } from './types.js';

/** Prompt tokens an image stands for (chatPrompt's imageNumTokens in server/prompt.go). */
const IMAGE_TOKENS = 768;

/** Thinking models think unless told not to; the others refuse `think` (ChatHandler). */
function resolveThink(
  entry: InstalledModel,
  requested: ThinkSetting | undefined,
  model: string,
): ThinkSetting | undefined {
  if (entry.model.capabilities.includes('thinking')) return requested ?? true;
  if (requested !== undefined && requested !== false) {
    throw new OllamaApiError(400, `${JSON.stringify(model)} does not support thinking`);
  }
  return undefined;
}

/** scheduleRunner's CheckCapabilities; a model that cannot complete gets the handler's own text. */
function checkCapabilities(entry: InstalledModel, want: Capability[], noCompletion: OllamaApiError): void {
  const missing = missingCapabilities(entry.model.capabilities, want);
  if (missing.includes('completion')) throw noCompletion;
  if (missing.length > 0) throw capabilityError(fullModelName(parseModelName(entry.name)), missing);
}

/** Load-only and unload-only requests (no messages / empty prompt), answered with one object. */
async function loadOrUnload(
  state: SimState,
  res: ServerResponse,
  entry: InstalledModel,
  keepAliveMs: number | undefined,
  shape: (doneReason: string) => unknown,
): Promise<void> {
  if (keepAliveMs === 0) {
    state.store.unload(entry);
    sendJson(res, 200, shape('unload'));
    return;
  }
  const lease = await state.store.acquire(entry);
  lease.release(keepAliveMs);
  sendJson(res, 200, shape('load'));
}

/** The model's PARAMETERs are defaults for `options` (modelOptions). */
function numPredictFor(entry: InstalledModel, request: InferenceRequest): number | undefined {
  if (request.options.num_predict !== undefined && request.options.num_predict !== null)
    return request.numPredict;
  return numPredictOf(entry.parameters);
}

/** `options.num_ctx` when the request sets a positive one (else the loaded context is kept). */
function numCtxOf(request: InferenceRequest): number | undefined {
  const value = request.options.num_ctx;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function promptTokens(messages: readonly ChatMessage[], tools: readonly ToolSpec[]): number {
  const images = messages.reduce((sum, message) => sum + (message.images?.length ?? 0), 0);
  return (
    countPromptTokens(messages) +
    images * IMAGE_TOKENS +
    (tools.length > 0 ? countTokens(JSON.stringify(tools)) : 0)
  );
}

/**
 * The prompt as the KV cache sees it: the preamble (start token and tools), then each message;
 * the segments add up to {@link promptTokens}.
 */
function promptSegments(messages: readonly ChatMessage[], tools: readonly ToolSpec[]): PromptSegment[] {
  const toolsJson = tools.length > 0 ? JSON.stringify(tools) : '';
  const segments: PromptSegment[] = [
    { key: `preamble\0${toolsJson}`, tokens: 1 + (toolsJson === '' ? 0 : countTokens(toolsJson)) },
  ];
  for (const message of messages) segments.push(messageSegment(message));
  return segments;
}

function messageSegment(message: ChatMessage): PromptSegment {
  const images = message.images ?? [];
  return {
    key: JSON.stringify([message.role, message.content, images, message.tool_calls ?? null]),
    tokens: 4 + countTokens(message.content) + images.length * IMAGE_TOKENS,
  };
}

function chatMessage(reply: { content: string; thinking: string; toolCalls?: ReplyText['toolCalls'] }) {
  return {
    role: 'assistant',
    content: reply.content,
    ...(reply.thinking !== '' ? { thinking: reply.thinking } : {}),
    ...(reply.toolCalls !== undefined && reply.toolCalls.length > 0 ? { tool_calls: reply.toolCalls } : {}),
  };
}

/** POST /api/chat. */
export async function handleChat(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  body: JsonObject,
  startedAt: number,
): Promise<void> {
  const request = parseChatRequest(body);
  const model = request.model;
  validModelRef(model, () => new OllamaApiError(400, 'model is required'));
  const entry = installedModel(state, model, () => notFoundQuoted(model));
  const created = () => new Date().toISOString();
  if (request.messages.length === 0 && request.keepAliveMs === 0) {
    state.store.unload(entry);
    sendJson(res, 200, {
      model,
      created_at: created(),
      message: { role: 'assistant', content: '' },
      done_reason: 'unload',
      done: true,
    });
    return;
  }
  const want: Capability[] = ['completion', ...(request.tools.length > 0 ? (['tools'] as const) : [])];
  const think = resolveThink(entry, request.think, model);
  checkCapabilities(entry, want, new OllamaApiError(400, `${JSON.stringify(model)} does not support chat`));
  if (request.messages.length === 0) {
    await loadOrUnload(state, res, entry, request.keepAliveMs, (doneReason) => ({
      model,
      created_at: created(),
      message: { role: 'assistant', content: '' },
      done_reason: doneReason,
      done: true,
    }));
    return;
  }
  const withModel: ApiMessage[] = [...entry.messages, ...request.messages];
  if (request.messages[0]!.role !== 'system' && entry.system !== '') {
    withModel.unshift({ role: 'system', content: entry.system });
  }
  const messages = fromApiMessages(withModel, entry.model.capabilities.includes('vision'));
  const format = parseFormat(request.format);
  const scripted = request.tools.length === 0 && format === undefined;
  const plan =
    (scripted ? scriptedPlan(state.replies, messages) : undefined) ??
    planReply({
      weights: entry.weights,
      messages,
      tools: request.tools,
      think,
      format,
      numPredict: numPredictFor(entry, request),
      toolCalls: scriptedToolCalls(state.toolCalls, entry.weights, messages, request.tools),
    });
  const modelJson = JSON.stringify(model);
  await runGeneration(state, res, client, {
    entry,
    pieces: plan.pieces,
    promptTokens: promptTokens(messages, request.tools),
    promptSegments: promptSegments(messages, request.tools),
    // The next turn sends the answer back as an assistant message: that is what the cache holds.
    replySegment: (content) => messageSegment({ role: 'assistant', content }),
    numCtx: numCtxOf(request),
    stream: request.stream,
    keepAliveMs: request.keepAliveMs,
    startedAt,
    chunk: (piece: ReplyPiece, createdAt) =>
      piece.thinking === '' && piece.toolCalls === undefined
        ? `{"model":${modelJson},"created_at":"${createdAt}","message":{"role":"assistant","content":${JSON.stringify(piece.content)}},"done":false}`
        : JSON.stringify({ model, created_at: createdAt, message: chatMessage(piece), done: false }),
    final: (reply: ReplyText, metrics: GenerationMetrics, createdAt: string) => ({
      model,
      created_at: createdAt,
      message: chatMessage(reply),
      done_reason: plan.doneReason,
      done: true,
      ...metrics,
    }),
  });
}

/** POST /api/generate: the conversation is (system, prompt[, suffix]); `raw` and `context` are accepted. */
export async function handleGenerate(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  body: JsonObject,
  startedAt: number,
): Promise<void> {
  const request = parseGenerateRequest(body);
  const model = request.model;
  validModelRef(model, () => notFoundQuoted(model));
  const entry = installedModel(state, model, () => notFoundQuoted(model));
  const created = () => new Date().toISOString();
  if (request.prompt === '' && request.keepAliveMs === 0) {
    state.store.unload(entry);
    sendJson(res, 200, { model, created_at: created(), response: '', done: true, done_reason: 'unload' });
    return;
  }
  if (
    request.raw &&
    (request.template !== '' || request.system !== '' || (request.context?.length ?? 0) > 0)
  ) {
    throw new OllamaApiError(400, 'raw mode does not support template, system, or context');
  }
  const want: Capability[] = ['completion', ...(request.suffix !== '' ? (['insert'] as const) : [])];
  const think = resolveThink(entry, request.think, model);
  checkCapabilities(
    entry,
    want,
    new OllamaApiError(400, `${JSON.stringify(model)} does not support generate`),
  );
  if (request.prompt === '') {
    await loadOrUnload(state, res, entry, request.keepAliveMs, (doneReason) => ({
      model,
      created_at: created(),
      response: '',
      done: true,
      done_reason: doneReason,
    }));
    return;
  }
  const system = request.raw ? '' : request.system !== '' ? request.system : entry.system;
  const conversation: ApiMessage[] = [
    ...(system !== '' ? [{ role: 'system', content: system }] : []),
    ...(request.raw || request.context !== undefined ? [] : entry.messages),
    {
      role: 'user',
      content: request.prompt,
      ...(request.images.length > 0 ? { images: request.images } : {}),
    },
    ...(request.suffix !== '' ? [{ role: 'suffix', content: request.suffix }] : []),
  ];
  const messages = fromApiMessages(conversation, entry.model.capabilities.includes('vision'));
  const format = parseFormat(request.format);
  const plan = planReply({
    weights: entry.weights,
    messages,
    tools: [],
    think,
    format,
    numPredict: numPredictFor(entry, request),
  });
  const modelJson = JSON.stringify(model);
  await runGeneration(state, res, client, {
    entry,
    pieces: plan.pieces,
    promptTokens: promptTokens(messages, []) + (request.context?.length ?? 0),
    numCtx: numCtxOf(request),
    stream: request.stream,
    keepAliveMs: request.keepAliveMs,
    startedAt,
    chunk: (piece: ReplyPiece, createdAt) =>
      piece.thinking === ''
        ? `{"model":${modelJson},"created_at":"${createdAt}","response":${JSON.stringify(piece.content)},"done":false}`
        : JSON.stringify({
            model,
            created_at: createdAt,
            response: piece.content,
            thinking: piece.thinking,
            done: false,
          }),
    final: (reply: ReplyText, metrics: GenerationMetrics, createdAt: string) => ({
      model,
      created_at: createdAt,
      response: reply.content,
      ...(reply.thinking !== '' ? { thinking: reply.thinking } : {}),
      done: true,
      done_reason: plan.doneReason,
      ...(request.raw ? {} : { context: contextIds(plan.pieces.map((piece) => piece.content)) }),
      ...metrics,
    }),
  });
}
